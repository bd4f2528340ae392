//! Faults injected into the next requests: an error status, a connection
//! closed without an answer, or a response cut in the middle.
//!
//! Faults are counted in requests, not time, so a test knows exactly how
//! many failures a client had to ride out; `pending` tells it whether all of
//! them were actually met.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What an affected request gets instead of its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An error status with a Rekor-style error body, optionally with a
    /// `Retry-After` header (seconds or an HTTP date, sent as given).
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// The connection is closed after the request was read, with no answer.
    Drop,
    /// The head and half of the body are sent, then the connection closes.
    Truncate,
}

impl Fault {
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            retry_after: None,
        }
    }

    pub fn status_retry_after(status: u16, retry_after: impl Into<String>) -> Fault {
        Fault::Status {
            status,
            retry_after: Some(retry_after.into()),
        }
    }
}

/// Which API requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    /// Every Rekor API request.
    Any,
    /// `GET /api/v1/log`.
    LogInfo,
    /// Entry requests: `GET /api/v1/log/entries` and the batch `retrieve`.
    Entries,
}

impl FaultTarget {
    pub fn parse(name: &str) -> Option<FaultTarget> {
        match name {
            "any" => Some(FaultTarget::Any),
            "log" => Some(FaultTarget::LogInfo),
            "entries" => Some(FaultTarget::Entries),
            _ => None,
        }
    }

    fn covers(self, route: FaultTarget) -> bool {
        self == FaultTarget::Any || self == route
    }
}

struct Pending {
    target: FaultTarget,
    fault: Fault,
    remaining: u64,
}

/// Faults waiting for requests, applied in the order they were injected.
#[derive(Default)]
pub struct FaultPlan {
    pending: Mutex<Vec<Pending>>,
    /// Sum of `remaining`, read without the lock on the fast path.
    total: AtomicU64,
}

impl FaultPlan {
    /// The next `count` requests matching `target` get `fault`.
    pub fn inject(&self, target: FaultTarget, fault: Fault, count: u64) {
        if count == 0 {
            return;
        }
        let mut pending = self.lock();
        pending.push(Pending {
            target,
            fault,
            remaining: count,
        });
        self.total.fetch_add(count, Ordering::SeqCst);
    }

    /// The fault for a request to `route`, if one is due.
    pub fn take(&self, route: FaultTarget) -> Option<Fault> {
        if self.total.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut pending = self.lock();
        let at = pending.iter().position(|p| p.target.covers(route))?;
        let fault = pending[at].fault.clone();
        pending[at].remaining -= 1;
        if pending[at].remaining == 0 {
            pending.remove(at);
        }
        self.total.fetch_sub(1, Ordering::SeqCst);
        Some(fault)
    }

    /// Faults injected but not yet met by a request.
    pub fn pending(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }

    pub fn clear(&self) {
        let mut pending = self.lock();
        pending.clear();
        self.total.store(0, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        // A panic while holding this lock cannot leave the list inconsistent.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_in_order_and_by_target() {
        let plan = FaultPlan::default();
        assert_eq!(plan.take(FaultTarget::Entries), None);
        plan.inject(FaultTarget::Entries, Fault::status(503), 2);
        plan.inject(FaultTarget::Any, Fault::Drop, 1);
        assert_eq!(plan.pending(), 3);
        // A log-info request skips the entries-only fault.
        assert_eq!(plan.take(FaultTarget::LogInfo), Some(Fault::Drop));
        assert_eq!(plan.take(FaultTarget::LogInfo), None);
        assert_eq!(plan.take(FaultTarget::Entries), Some(Fault::status(503)));
        assert_eq!(plan.take(FaultTarget::Entries), Some(Fault::status(503)));
        assert_eq!(plan.take(FaultTarget::Entries), None);
        assert_eq!(plan.pending(), 0);
    }

    #[test]
    fn clear_and_zero_count() {
        let plan = FaultPlan::default();
        plan.inject(FaultTarget::Any, Fault::Truncate, 0);
        assert_eq!(plan.pending(), 0);
        plan.inject(FaultTarget::Any, Fault::status_retry_after(429, "1"), 5);
        plan.clear();
        assert_eq!(plan.pending(), 0);
        assert_eq!(plan.take(FaultTarget::Entries), None);
        assert_eq!(FaultTarget::parse("entries"), Some(FaultTarget::Entries));
        assert_eq!(FaultTarget::parse("nope"), None);
    }
}
