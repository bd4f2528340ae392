//! Backend outages during a run (issue #11, "Outages survived"): the
//! backend is stopped mid-run and started again with its data (a private
//! Redis with an fsync'ed append-only file, a private MariaDB); the run
//! waits it out, reconnects and ends as a run without outage would. An
//! outage longer than `--backend-retry-max` is scenario 8
//! (`support::scenarios::backend_stopped_mid_run`). A Redis that comes back
//! without its data makes the run rewind and write the index again.

use std::thread;
use std::time::{Duration, Instant};

use crate::support;

use support::backend::IndexBackend;
use support::mysql_backend::MysqlBackend;
use support::private::{PrivateMariaDb, PrivateRedis};
use support::redis_backend::RedisBackend;
use support::Fixture;

/// Per-entry delay of the replay server, so the run is mid-way when the
/// backend goes away.
const SLOW: Duration = Duration::from_millis(20);
const OUTAGE: Duration = Duration::from_secs(3);

/// The backend is down for [`OUTAGE`] in the middle of a run: the run ends
/// as without outage (status, index, checkpoint).
fn short_outage_is_waited_out<B: IndexBackend>() {
    let (mut service, backend) = B::launch_private();
    let fx = Fixture::on_backend("outage-waited-out", backend);
    let size = fx.size();
    // Computed now, while the backend is up.
    fx.reference();

    fx.server.set_delay(SLOW);
    let mut running = fx.spawn(&["--checkpoint-interval", "10", "--concurrency", "2"]);
    running.wait_until("100 entries served", Duration::from_secs(60), || {
        fx.server.stats().entries_served >= 100
    });
    service.stop();
    thread::sleep(OUTAGE);
    assert!(running.is_running(), "the run ended during the outage");
    service.start();
    let out = running.wait_for(Duration::from_secs(120));
    out.expect_code(fx.expected_exit(0..size), "a 3 s backend outage");
    assert!(
        out.line_with("reconnecting").is_some(),
        "the run did not notice the outage:\n{}",
        out.stderr
    );
    assert!(
        out.line_with("Backfill complete").is_some(),
        "no complete summary:\n{}",
        out.stderr
    );
    fx.assert_no_secrets(&out, &[]);
    let cp = fx.assert_checkpoint_sound("after the outage");
    assert_eq!(cp.map(|c| c.last_completed_index), Some(size - 1));
    fx.assert_index_is_reference("after a 3 s outage");
}

#[test]
fn redis_outage_is_waited_out() {
    short_outage_is_waited_out::<RedisBackend>();
}

#[test]
fn mysql_outage_is_waited_out() {
    short_outage_is_waited_out::<MysqlBackend>();
}

/// SIGTERM while the run waits for the backend: it stops at once, as
/// interrupted (143), not after --backend-retry-max.
#[test]
fn sigterm_ends_the_wait() {
    let (mut service, backend) = RedisBackend::launch_private();
    let fx = Fixture::on_backend("outage-sigterm", backend);
    fx.server.set_delay(SLOW);
    let mut running = fx.spawn(&["--checkpoint-interval", "10", "--concurrency", "2"]);
    running.wait_until("100 entries served", Duration::from_secs(60), || {
        fx.server.stats().entries_served >= 100
    });
    service.stop();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !running.stderr_so_far().contains("--backend-retry-max") {
        assert!(
            Instant::now() < deadline,
            "the outage was not noticed:\n{}",
            running.stderr_so_far()
        );
        thread::sleep(Duration::from_millis(50));
    }
    running.signal(libc::SIGTERM);
    let out = running.wait_for(Duration::from_secs(120));
    out.expect_code(support::tool::EXIT_TERMINATED, "SIGTERM during an outage");
    assert!(
        out.elapsed < Duration::from_secs(30),
        "the run took {:?}",
        out.elapsed
    );
    service.start();
    fx.backend.drop_lease(&fx.name);
    fx.assert_checkpoint_sound("after SIGTERM during an outage");
}

/// Redis restarted without its data mid-run: the run notices (its marker
/// keys are gone), rewinds, and the index ends complete.
#[test]
fn redis_restarted_empty_is_rewritten() {
    let mut redis = PrivateRedis::launch();
    let fx = Fixture::on_backend("restarted-empty", redis.backend.clone());
    let size = fx.size();
    fx.reference();

    fx.server.set_delay(SLOW);
    let mut running = fx.spawn(&["--checkpoint-interval", "10", "--concurrency", "2"]);
    running.wait_until("100 entries served", Duration::from_secs(60), || {
        fx.server.stats().entries_served >= 100
    });
    redis.restart_empty();
    let out = running.wait_for(Duration::from_secs(120));
    out.expect_code(fx.expected_exit(0..size), "Redis restarted empty");
    assert!(
        out.line_with("came back without this run's data").is_some()
            && out.line_with("rewinding (1 of at most 10)").is_some(),
        "the run did not rewind:\n{}",
        out.stderr
    );
    assert!(
        out.line_with(&format!("Backfill complete: {size}/{size} entries"))
            .is_some(),
        "the summary does not cover the whole range:\n{}",
        out.stderr
    );
    let cp = fx.assert_checkpoint_sound("after the rewind");
    assert_eq!(cp.map(|c| c.last_completed_index), Some(size - 1));
    fx.assert_index_is_reference("after a restart without data");
}

/// A server whose sessions start with autocommit=0 (a my.cnf or proxy
/// default): every connection sets autocommit=1 itself, so the index and
/// the checkpoint are committed, not rolled back when the run disconnects.
#[test]
fn mysql_autocommit_off_on_the_server() {
    let db = PrivateMariaDb::launch();
    db.as_root("SET GLOBAL autocommit = 0");
    let fx = Fixture::on_backend("autocommit-off", db.backend.clone());
    let size = fx.size();
    let out = fx.run(&[]);
    out.expect_code(fx.expected_exit(0..size), "autocommit=0 by default");
    let cp = fx.assert_checkpoint_sound("with autocommit=0 by default");
    assert_eq!(cp.map(|c| c.last_completed_index), Some(size - 1));
    fx.assert_index_is_reference("with autocommit=0 by default");
}
