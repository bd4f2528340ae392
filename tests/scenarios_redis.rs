//! Integration scenarios against a real Redis (REKOR_BACKFILL_TEST_REDIS,
//! REKOR_BACKFILL_TEST_REDIS_PASSWORD; start it with `harness/services.sh
//! start`). The scenarios themselves are in support/scenarios.rs.

use crate::support;

use support::redis_backend::RedisBackend;
use support::scenarios;

#[test]
fn from_scratch() {
    scenarios::from_scratch::<RedisBackend>();
}

#[test]
fn upper_half_restored() {
    scenarios::upper_half_restored::<RedisBackend>();
}

#[test]
fn sparse_removal_restored() {
    scenarios::sparse_removal_restored::<RedisBackend>();
}

#[test]
fn rerun_changes_nothing() {
    scenarios::rerun_changes_nothing::<RedisBackend>();
}

#[test]
fn checkpoint_resume_and_growth() {
    scenarios::checkpoint_resume_and_growth::<RedisBackend>();
}

#[test]
fn sigkill_at_random_moments() {
    scenarios::sigkill_at_random_moments::<RedisBackend>();
}

#[test]
fn signals_stop_gracefully() {
    scenarios::signals_stop_gracefully::<RedisBackend>();
}

#[test]
fn second_signal_exits_at_once() {
    scenarios::second_signal_exits_at_once::<RedisBackend>();
}

#[test]
fn backend_stopped_mid_run() {
    scenarios::backend_stopped_mid_run::<RedisBackend>();
}

#[test]
fn rekor_errors_are_retried() {
    scenarios::rekor_errors_are_retried::<RedisBackend>();
}

#[test]
fn retry_after_is_honoured() {
    scenarios::retry_after_is_honoured::<RedisBackend>();
}

#[test]
fn dropped_connections_are_retried() {
    scenarios::dropped_connections_are_retried::<RedisBackend>();
}

#[test]
fn rekor_gone_is_fatal() {
    scenarios::rekor_gone_is_fatal::<RedisBackend>();
}

#[test]
fn malformed_entries_are_reported() {
    scenarios::malformed_entries_are_reported::<RedisBackend>();
}

#[test]
fn retrieve_refused_falls_back() {
    scenarios::retrieve_refused_falls_back::<RedisBackend>();
}

#[test]
fn sharded_log() {
    scenarios::sharded_log::<RedisBackend>();
}

#[test]
fn dry_run_writes_nothing() {
    scenarios::dry_run_writes_nothing::<RedisBackend>();
}

#[test]
fn usage_errors_exit_2() {
    scenarios::usage_errors_exit_2::<RedisBackend>();
}

#[test]
fn bad_ranges_exit_2_before_writing() {
    scenarios::bad_ranges_exit_2_before_writing::<RedisBackend>();
}

#[test]
fn secrets_stay_out_of_output() {
    scenarios::secrets_stay_out_of_output::<RedisBackend>();
}

// --- Redis only ---

use support::tool;
use support::Fixture;

/// REDIS_PASSWORD works like --redis-password, and stays out of the output.
#[test]
fn password_from_environment_stays_secret() {
    let fx = Fixture::<RedisBackend>::new("env-password");
    let address = vec![
        "--redis-hostname".to_string(),
        fx.backend.host.clone(),
        "--redis-port".to_string(),
        fx.backend.port.to_string(),
    ];
    let out = tool::run(
        &fx.args_with_backend(address.clone(), &["--end", "9"]),
        &[("REDIS_PASSWORD".into(), fx.backend.password.clone())],
    );
    out.expect_code(fx.expected_exit(0..10), "password from REDIS_PASSWORD");
    fx.assert_no_secrets(&out, &[]);
    let secret = "Env-s3cret-redis-pw";
    let out = tool::run(
        &fx.args_with_backend(address, &[]),
        &[("REDIS_PASSWORD".into(), secret.into())],
    );
    assert!(
        matches!(out.code, Some(tool::EXIT_FATAL | tool::EXIT_USAGE)),
        "a wrong password must fail the run: {out:?}"
    );
    fx.assert_no_secrets(&out, &[secret]);
}
