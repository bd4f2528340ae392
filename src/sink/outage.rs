//! Backend outages waited out: a Redis restart, a MariaDB restart or
//! failover. The backends mark the errors that mean "not reachable now"
//! ([`Unavailable`]: refused, reset, timeout, LOADING, READONLY, server
//! gone away); [`Resilient`] wraps a sink, a checkpoint or failure store,
//! or a lease, and re-runs the failed operation after a capped exponential
//! backoff with jitter (100 ms doubling to 5 s), the backends reconnecting
//! on the next attempt. The operations are idempotent (index writes,
//! checkpoint saves, lease renewals; a failure record may count one attempt
//! more), so a re-run is safe. The wait is bounded by
//! `--backend-retry-max` and ends early when the run stops (a signal, or
//! another part of the run failed); then the error is returned, saying for
//! how long the backend was unreachable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::{IndexedEntry, Sink, SinkError};
use crate::checkpoint::{CheckpointName, CheckpointRecord, CheckpointStore};
use crate::failures::{FailureRecord, FailureStore};
use crate::lease::Lease;
use crate::worker::EntryFailure;

/// First backoff; doubles per attempt up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How often a backoff looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

/// The backend cannot be reached now (the message says why); a later
/// attempt on a new connection may succeed.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unavailable {}

/// `error` as an [`Unavailable`], keeping its whole message.
pub fn unavailable(error: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(Unavailable(format!("{error:#}")))
}

/// Whether an [`Unavailable`] is anywhere in the chain of `error`.
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<Unavailable>())
}

/// The backend came back without the data this run wrote (a Redis
/// restarted without persistence, flushed, or a replica that lagged): what
/// was written since the run began may be gone, so the run rewinds
/// (`pipeline::run`) instead of carrying on past the hole.
#[derive(Debug)]
pub struct DataLost(pub String);

impl std::fmt::Display for DataLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataLost {}

/// Whether a [`DataLost`] is anywhere in the chain of `error`.
pub fn is_data_lost(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<DataLost>())
}

/// The run stopped while the backend was being waited for: not an error of
/// its own (the signal, or the failure that stopped the run, is reported).
#[derive(Debug)]
pub struct GaveUpOnStop;

impl std::fmt::Display for GaveUpOnStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the run stopped while waiting for the backend")
    }
}

impl std::error::Error for GaveUpOnStop {}

/// Whether the run stopped while `error`'s operation waited for the backend.
pub fn gave_up_on_stop(error: &anyhow::Error) -> bool {
    // A context is found by downcasting, not in the chain.
    error.downcast_ref::<GaveUpOnStop>().is_some()
}

/// How long outages are waited out, and the run's stop flag.
#[derive(Clone, Debug)]
pub struct OutagePolicy {
    /// `--backend-retry-max`.
    pub max: Duration,
    pub stop: Arc<AtomicBool>,
}

impl OutagePolicy {
    /// Runs `op` until it succeeds, fails with an error that is not
    /// [`Unavailable`], or the backend has been unavailable for longer
    /// than `max`. `what` names the operation in the log.
    pub fn retry<T>(
        &self,
        what: &str,
        mut op: impl FnMut() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut backoff: Option<Backoff> = None;
        loop {
            let error = match op() {
                Ok(value) => {
                    if let Some(backoff) = backoff {
                        log::info!(
                            "Backend reachable again after {:.1}s; {what} done",
                            backoff.started.elapsed().as_secs_f64()
                        );
                    }
                    return Ok(value);
                }
                Err(e) if !is_unavailable(&e) => return Err(e),
                Err(e) => e,
            };
            let backoff = backoff.get_or_insert_with(|| {
                log::warn!(
                    "{what}: {error:#}; reconnecting for up to {} (--backend-retry-max)",
                    humantime::format_duration(self.max)
                );
                Backoff::new(self.max)
            });
            match backoff.wait(&self.stop) {
                Wait::Again => {}
                Wait::Stopped => return Err(error.context(GaveUpOnStop)),
                Wait::Exceeded => {
                    return Err(error.context(format!(
                    "the backend was unreachable for {:.1}s, longer than --backend-retry-max {}",
                    backoff.started.elapsed().as_secs_f64(),
                    humantime::format_duration(self.max)
                )))
                }
            }
        }
    }
}

enum Wait {
    Again,
    Stopped,
    Exceeded,
}

/// Capped exponential backoff with jitter, bounded in total.
struct Backoff {
    started: Instant,
    max: Duration,
    next: Duration,
    /// xorshift64 state: the jitter keeps reconnecting workers apart.
    rng: u64,
}

impl Backoff {
    fn new(max: Duration) -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32)
            ^ (&max as *const Duration as u64);
        Backoff {
            started: Instant::now(),
            max,
            next: BACKOFF_MIN,
            rng: seed | 1,
        }
    }

    /// The next pause: between half and all of the current step.
    fn pause(&mut self) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let step = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        let half = step / 2;
        half + half.mul_f64((self.rng % 1000) as f64 / 1000.0)
    }

    /// Sleeps the next pause, never past `max` after the start.
    fn wait(&mut self, stop: &AtomicBool) -> Wait {
        let elapsed = self.started.elapsed();
        if elapsed >= self.max {
            return Wait::Exceeded;
        }
        let until = Instant::now() + self.pause().min(self.max - elapsed);
        while Instant::now() < until {
            if stop.load(Ordering::SeqCst) {
                return Wait::Stopped;
            }
            std::thread::sleep(STOP_POLL.min(until.saturating_duration_since(Instant::now())));
        }
        Wait::Again
    }
}

/// A sink, checkpoint store or lease whose operations wait out outages.
pub struct Resilient<T: ?Sized> {
    inner: Box<T>,
    policy: OutagePolicy,
}

impl<T: ?Sized> Resilient<T> {
    pub fn new(inner: Box<T>, policy: OutagePolicy) -> Resilient<T> {
        Resilient { inner, policy }
    }
}

impl Sink for Resilient<dyn Sink> {
    fn write(&mut self, entries: &[IndexedEntry]) -> Result<(), SinkError> {
        let inner = &mut self.inner;
        self.policy
            .retry("writing index keys", || {
                inner.write(entries).map_err(|e| e.0)
            })
            .map_err(SinkError)
    }
}

impl CheckpointStore for Resilient<dyn CheckpointStore> {
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Option<CheckpointRecord>> {
        let inner = &mut self.inner;
        self.policy
            .retry("loading the checkpoint", || inner.load(name))
    }

    fn save(&mut self, name: &CheckpointName, record: &CheckpointRecord) -> anyhow::Result<()> {
        let inner = &mut self.inner;
        self.policy
            .retry("saving the checkpoint", || inner.save(name, record))
    }

    fn delete(&mut self, name: &CheckpointName) -> anyhow::Result<()> {
        let inner = &mut self.inner;
        self.policy
            .retry("deleting the checkpoint", || inner.delete(name))
    }
}

impl FailureStore for Resilient<dyn FailureStore> {
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Vec<FailureRecord>> {
        let inner = &mut self.inner;
        self.policy
            .retry("reading the failure records", || inner.load(name))
    }

    fn record(
        &mut self,
        name: &CheckpointName,
        failures: &[EntryFailure],
        at: SystemTime,
    ) -> anyhow::Result<()> {
        let inner = &mut self.inner;
        self.policy.retry("storing failure records", || {
            inner.record(name, failures, at)
        })
    }

    fn remove(&mut self, name: &CheckpointName, indices: &[u64]) -> anyhow::Result<()> {
        let inner = &mut self.inner;
        self.policy
            .retry("removing failure records", || inner.remove(name, indices))
    }
}

impl Lease for Resilient<dyn Lease> {
    fn renew(&mut self) -> anyhow::Result<()> {
        let inner = &mut self.inner;
        self.policy.retry("renewing the lease", || inner.renew())
    }

    fn release(&mut self) -> anyhow::Result<()> {
        // Best effort at the end of the run: a lease not released expires.
        self.inner.release()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn policy(max: Duration) -> OutagePolicy {
        OutagePolicy {
            max,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    fn down() -> anyhow::Error {
        unavailable(anyhow::anyhow!("redis 127.0.0.1:1: connection refused"))
    }

    #[test]
    fn pauses_double_up_to_the_cap_with_jitter() {
        let mut backoff = Backoff::new(Duration::from_secs(60));
        let pauses: Vec<Duration> = (0..10).map(|_| backoff.pause()).collect();
        for (i, pause) in pauses.iter().enumerate() {
            let step = (BACKOFF_MIN * 2u32.pow(i as u32)).min(BACKOFF_MAX);
            assert!(
                *pause >= step / 2 && *pause <= step,
                "{i}: {pause:?} vs {step:?}"
            );
        }
    }

    #[test]
    fn outage_is_waited_out() {
        let calls = Cell::new(0);
        let started = Instant::now();
        let result = policy(Duration::from_secs(10)).retry("test", || {
            calls.set(calls.get() + 1);
            if calls.get() < 4 {
                Err(down())
            } else {
                Ok(7)
            }
        });
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls.get(), 4);
        // 50..100 + 100..200 + 200..400 ms.
        assert!(started.elapsed() >= Duration::from_millis(350));
    }

    #[test]
    fn other_errors_are_not_retried() {
        let calls = Cell::new(0);
        let result: anyhow::Result<()> = policy(Duration::from_secs(10)).retry("test", || {
            calls.set(calls.get() + 1);
            Err(anyhow::anyhow!("WRONGTYPE"))
        });
        assert!(!is_unavailable(&result.unwrap_err()));
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn the_bound_ends_the_wait() {
        let started = Instant::now();
        let error = policy(Duration::from_millis(700))
            .retry("test", || -> anyhow::Result<()> { Err(down()) })
            .unwrap_err();
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(700), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        let message = format!("{error:#}");
        assert!(
            message.contains("longer than --backend-retry-max 700ms"),
            "{message}"
        );
        assert!(message.contains("connection refused"), "{message}");
    }

    #[test]
    fn stop_ends_the_wait() {
        let policy = policy(Duration::from_secs(60));
        let stop = Arc::clone(&policy.stop);
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stop.store(true, Ordering::SeqCst);
        });
        let started = Instant::now();
        let error = policy
            .retry("test", || -> anyhow::Result<()> { Err(down()) })
            .unwrap_err();
        stopper.join().unwrap();
        assert!(gave_up_on_stop(&error));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
