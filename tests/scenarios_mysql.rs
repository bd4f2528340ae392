//! Integration scenarios against a real MariaDB/MySQL
//! (REKOR_BACKFILL_TEST_MYSQL_DSN; start it with `harness/services.sh
//! start`). The scenarios themselves are in support/scenarios.rs.

use crate::support;

use support::mysql_backend::MysqlBackend;
use support::scenarios;

#[test]
fn from_scratch() {
    scenarios::from_scratch::<MysqlBackend>();
}

#[test]
fn upper_half_restored() {
    scenarios::upper_half_restored::<MysqlBackend>();
}

#[test]
fn sparse_removal_restored() {
    scenarios::sparse_removal_restored::<MysqlBackend>();
}

#[test]
fn rerun_changes_nothing() {
    scenarios::rerun_changes_nothing::<MysqlBackend>();
}

#[test]
fn checkpoint_resume_and_growth() {
    scenarios::checkpoint_resume_and_growth::<MysqlBackend>();
}

#[test]
fn sigkill_at_random_moments() {
    scenarios::sigkill_at_random_moments::<MysqlBackend>();
}

#[test]
fn signals_stop_gracefully() {
    scenarios::signals_stop_gracefully::<MysqlBackend>();
}

#[test]
fn second_signal_exits_at_once() {
    scenarios::second_signal_exits_at_once::<MysqlBackend>();
}

#[test]
fn backend_stopped_mid_run() {
    scenarios::backend_stopped_mid_run::<MysqlBackend>();
}

#[test]
fn rekor_errors_are_retried() {
    scenarios::rekor_errors_are_retried::<MysqlBackend>();
}

#[test]
fn retry_after_is_honoured() {
    scenarios::retry_after_is_honoured::<MysqlBackend>();
}

#[test]
fn dropped_connections_are_retried() {
    scenarios::dropped_connections_are_retried::<MysqlBackend>();
}

#[test]
fn rekor_gone_is_fatal() {
    scenarios::rekor_gone_is_fatal::<MysqlBackend>();
}

#[test]
fn malformed_entries_are_reported() {
    scenarios::malformed_entries_are_reported::<MysqlBackend>();
}

#[test]
fn retrieve_refused_falls_back() {
    scenarios::retrieve_refused_falls_back::<MysqlBackend>();
}

#[test]
fn sharded_log() {
    scenarios::sharded_log::<MysqlBackend>();
}

#[test]
fn dry_run_writes_nothing() {
    scenarios::dry_run_writes_nothing::<MysqlBackend>();
}

#[test]
fn usage_errors_exit_2() {
    scenarios::usage_errors_exit_2::<MysqlBackend>();
}

#[test]
fn bad_ranges_exit_2_before_writing() {
    scenarios::bad_ranges_exit_2_before_writing::<MysqlBackend>();
}

#[test]
fn secrets_stay_out_of_output() {
    scenarios::secrets_stay_out_of_output::<MysqlBackend>();
}

// --- MySQL only ---

use support::backend::IndexBackend;
use support::tool;
use support::Fixture;

/// Runs that must not write create no table either.
#[test]
fn read_only_runs_create_no_tables() {
    let fx = Fixture::<MysqlBackend>::new("no-tables");
    let size = fx.size();
    let fresh = fx.backend.fresh_database("test_rekor_backfill_readonly");
    let end = size.to_string();
    let cases = [
        ("dry run", vec!["--dry-run"], fx.expected_exit(0..size)),
        (
            "--end beyond the log",
            vec!["--end", end.as_str()],
            tool::EXIT_USAGE,
        ),
    ];
    for (what, extra, code) in cases {
        let out = tool::run(&fx.args_with_backend(fresh.tool_args(), &extra), &[]);
        out.expect_code(code, what);
        assert_eq!(
            fresh.tables(),
            Vec::<String>::new(),
            "{what} created tables"
        );
    }
    fresh.drop_database();
}

/// The DSN password stays out of the output, from a flag or MYSQL_DSN.
#[test]
fn dsn_password_stays_secret() {
    let fx = Fixture::<MysqlBackend>::new("dsn-secret");
    let secret = "S3cret-dsn-pw-9";
    let bad_port = format!(
        "{}:{secret}@tcp({}:notaport)/test",
        fx.backend.user, fx.backend.host
    );
    let out = tool::run(
        &fx.args_with_backend(vec!["--mysql-dsn".into(), bad_port], &[]),
        &[],
    );
    out.expect_code(tool::EXIT_USAGE, "DSN with a bad port");
    fx.assert_no_secrets(&out, &[secret]);

    let env_dsn = |password: &str| {
        MysqlBackend {
            password: password.to_string(),
            ..fx.backend.clone()
        }
        .dsn()
    };
    let out = tool::run(
        &fx.args_with_backend(Vec::new(), &["--end", "9"]),
        &[("MYSQL_DSN".into(), env_dsn(&fx.backend.password))],
    );
    out.expect_code(fx.expected_exit(0..10), "DSN from MYSQL_DSN");
    fx.assert_no_secrets(&out, &[]);
    let out = tool::run(
        &fx.args_with_backend(Vec::new(), &[]),
        &[("MYSQL_DSN".into(), env_dsn(secret))],
    );
    assert!(
        matches!(out.code, Some(tool::EXIT_FATAL | tool::EXIT_USAGE)),
        "a wrong password must fail the run: {out:?}"
    );
    fx.assert_no_secrets(&out, &[secret]);
}
