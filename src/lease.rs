//! One run per checkpoint: a lease on the checkpoint name, held in the
//! backend for as long as the run lives.
//!
//! Schedulers start a second run while the first still goes (a Kubernetes
//! CronJob's default `concurrencyPolicy: Allow`, a systemd timer after a
//! slow run). Two runs on one checkpoint would each save their own
//! watermark over the other's, so a run takes the lease before it reads or
//! writes anything, and a second run exits at once with status 4
//! ([`LeaseHeld`]), having written nothing.
//!
//! The backends hold it differently (`sink::redis_lease`,
//! `sink::mysql_lease`): Redis as a key with a time to live that a
//! [`LeaseKeeper`] thread renews (compare-and-renew, so a run never extends
//! a lease that another run took over after it expired); MySQL as a named
//! lock (`GET_LOCK`) on a dedicated connection, which the server releases
//! when that connection dies. Either way a SIGKILLed run's lease goes away
//! by itself, within [`LEASE_TTL`] at most. A lease found lost stops the
//! run (status 1) and its checkpoint is not saved again.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use crossbeam_channel::{RecvTimeoutError, Sender};
use sha2::{Digest, Sha256};

use crate::checkpoint::CheckpointName;

/// How long a lease lives without renewal: the longest a SIGKILLed run
/// blocks the next one.
pub const LEASE_TTL: Duration = Duration::from_secs(30);
/// Renewal period: two renewals may fail in a row before the lease expires.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);

/// Another run holds the lease: exit status 4, nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHeld {
    pub name: CheckpointName,
    /// Who holds it (`host/pid/…`), when the backend says.
    pub holder: Option<String>,
    /// Since when, RFC 3339, when the backend says.
    pub since: Option<String>,
}

impl fmt::Display for LeaseHeld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "another run holds checkpoint {} since {}",
            self.name,
            self.since.as_deref().unwrap_or("an unknown time")
        )?;
        if let Some(holder) = &self.holder {
            write!(f, " (held by {holder})")?;
        }
        write!(
            f,
            "; this run wrote nothing. Let that run finish, or give this one another --checkpoint-key"
        )
    }
}

impl std::error::Error for LeaseHeld {}

/// This run as a lease holder: `host/pid/nonce`, and when it took the
/// lease. Stored as the lease's value, so a second run can say who holds
/// it and since when.
#[derive(Clone, Debug)]
pub struct Owner {
    id: String,
    since: String,
}

impl Owner {
    pub fn new() -> Owner {
        let now = SystemTime::now();
        let pid = std::process::id();
        // Unique per process start even where pids repeat (containers all
        // run as pid 1).
        let nonce = Sha256::digest(format!("{pid} {now:?} {:p}", &now));
        Owner {
            id: format!("{}/{pid}/{}", hostname(), hex::encode(&nonce[..6])),
            since: humantime::format_rfc3339_seconds(now).to_string(),
        }
    }

    /// `host/pid/nonce`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// RFC 3339, seconds.
    pub fn since(&self) -> &str {
        &self.since
    }

    /// The lease value: `host/pid/nonce@since`.
    pub fn token(&self) -> String {
        format!("{}@{}", self.id, self.since)
    }

    /// `(holder, since)` from a token; a value another tool wrote is shown
    /// as it is.
    pub fn parse_token(token: &str) -> (String, Option<String>) {
        match token.rsplit_once('@') {
            Some((id, since)) if humantime::parse_rfc3339(since).is_ok() => {
                (id.to_string(), Some(since.to_string()))
            }
            _ => (token.to_string(), None),
        }
    }
}

impl Default for Owner {
    fn default() -> Owner {
        Owner::new()
    }
}

/// The host name (a pod's name in Kubernetes), for messages only.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty() && h.len() <= 253)
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// The name of the MySQL lock of a checkpoint: `rekor-backfill:<NAME>`, or
/// for names that would pass MySQL's 64-character limit on lock names,
/// `rekor-backfill:sha256:` and the first 42 hex digits of the name's hash.
pub fn mysql_lock_name(name: &CheckpointName) -> String {
    let plain = format!("rekor-backfill:{name}");
    if plain.len() <= 64 {
        return plain;
    }
    let digest = hex::encode(Sha256::digest(name.as_str().as_bytes()));
    format!("rekor-backfill:sha256:{}", &digest[..42])
}

/// A lease held in a backend.
pub trait Lease: Send {
    /// Extends the lease (Redis) or confirms it is still held (MySQL). An
    /// error means the lease is lost or cannot be confirmed: the run must
    /// stop writing.
    fn renew(&mut self) -> anyhow::Result<()>;
    /// Gives the lease up at the end of the run (only if still ours).
    fn release(&mut self) -> anyhow::Result<()>;
}

/// The thread that renews a lease every [`RENEW_EVERY`] and releases it
/// when dropped, so every way out of a run (normal end, error, signal)
/// gives the lease back.
pub struct LeaseKeeper {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    lost: Arc<AtomicBool>,
}

impl LeaseKeeper {
    /// Starts renewing. `on_lost` is called once, from the keeper thread,
    /// when a renewal fails.
    pub fn start(
        mut lease: Box<dyn Lease>,
        name: CheckpointName,
        on_lost: impl FnOnce(anyhow::Error) + Send + 'static,
    ) -> anyhow::Result<LeaseKeeper> {
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = crossbeam_channel::bounded::<()>(1);
        let flag = Arc::clone(&lost);
        let thread = std::thread::Builder::new()
            .name("lease".to_string())
            .spawn(move || {
                // Until stopped (a message or the sender dropped): renew.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(RENEW_EVERY) {
                    if let Err(e) = lease.renew() {
                        flag.store(true, Ordering::SeqCst);
                        on_lost(e.context(format!(
                            "the lease on checkpoint {name} is lost; stopping without saving the checkpoint again"
                        )));
                        return;
                    }
                    log::debug!("lease on checkpoint {name} renewed");
                }
                match lease.release() {
                    Ok(()) => log::debug!("lease on checkpoint {name} released"),
                    Err(e) => log::warn!(
                        "releasing the lease on checkpoint {name}: {e:#} (it expires by itself)"
                    ),
                }
            })
            .context("starting the lease thread")?;
        Ok(LeaseKeeper {
            stop: Some(stop),
            thread: Some(thread),
            lost,
        })
    }

    /// Set once a renewal failed: nothing may be saved any more.
    pub fn lost(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.lost)
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread, which releases the lease.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn tokens_round_trip() {
        let owner = Owner::new();
        let (id, since) = Owner::parse_token(&owner.token());
        assert_eq!(id, owner.id());
        assert_eq!(since.as_deref(), Some(owner.since()));
        assert_eq!(owner.id().split('/').count(), 3);
        assert_ne!(Owner::new().id(), owner.id());
        assert_eq!(Owner::parse_token("someone"), ("someone".to_string(), None));
        assert_eq!(Owner::parse_token("a@b"), ("a@b".to_string(), None));
    }

    #[test]
    fn held_message_names_checkpoint_and_time() {
        let held = LeaseHeld {
            name: CheckpointName::parse("nightly").unwrap(),
            holder: Some("pod-1/1/abc".to_string()),
            since: Some("2026-12-04T15:00:00Z".to_string()),
        };
        let text = held.to_string();
        assert!(
            text.starts_with("another run holds checkpoint nightly since 2026-12-04T15:00:00Z"),
            "{text}"
        );
        assert!(text.contains("pod-1/1/abc"), "{text}");
    }

    #[test]
    fn mysql_lock_names_fit_64_characters() {
        let short = CheckpointName::parse("default").unwrap();
        assert_eq!(mysql_lock_name(&short), "rekor-backfill:default");
        let long = CheckpointName::parse(&"n".repeat(128)).unwrap();
        let other = CheckpointName::parse(&format!("{}m", "n".repeat(127))).unwrap();
        assert_eq!(mysql_lock_name(&long).len(), 64);
        assert_ne!(mysql_lock_name(&long), mysql_lock_name(&other));
    }

    /// Records renewals and releases; fails renewals once told to.
    struct Fake {
        events: Arc<Mutex<Vec<&'static str>>>,
        fail: Arc<AtomicBool>,
    }

    impl Lease for Fake {
        fn renew(&mut self) -> anyhow::Result<()> {
            self.events.lock().unwrap().push("renew");
            if self.fail.load(Ordering::SeqCst) {
                anyhow::bail!("taken over");
            }
            Ok(())
        }
        fn release(&mut self) -> anyhow::Result<()> {
            self.events.lock().unwrap().push("release");
            Ok(())
        }
    }

    #[test]
    fn keeper_releases_on_drop() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let fake = Fake {
            events: Arc::clone(&events),
            fail: Arc::new(AtomicBool::new(false)),
        };
        let name = CheckpointName::parse("t").unwrap();
        let keeper = LeaseKeeper::start(Box::new(fake), name, |_| panic!("not lost")).unwrap();
        assert!(!keeper.lost().load(Ordering::SeqCst));
        drop(keeper);
        assert_eq!(*events.lock().unwrap(), ["release"]);
    }
}
