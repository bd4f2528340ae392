//! The server's shared state and every knob a test turns: log content,
//! faults, delay, the batch endpoint switch, statistics, live connections.
//!
//! In-process tests call these methods directly (through
//! [`crate::ReplayServer`]); the `/__admin/` endpoints of a server run as a
//! process call the same methods, so both paths behave alike.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::Duration;

use serde::Serialize;

use crate::faults::{Fault, FaultPlan, FaultTarget};
use crate::log::{Entry, Log, Malformation, ServedEntry};

/// Whether `POST /api/v1/log/entries/retrieve` is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetrieveMode {
    Enabled,
    /// Answered with this status (404, 405 or 501 are what servers without
    /// the endpoint, or with it disabled, send).
    Disabled {
        status: u16,
    },
}

/// Request counts since start or the last [`Control::reset_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// TCP connections accepted.
    pub connections: u64,
    /// Rekor API requests (admin requests excluded), faulted ones included.
    pub api_requests: u64,
    pub log_info_requests: u64,
    /// Requests to `/api/v1/log/entries` (by index).
    pub entry_requests: u64,
    /// Requests to `/api/v1/log/entries/retrieve` (batch).
    pub retrieve_requests: u64,
    /// Entries sent in 200 answers, by either endpoint.
    pub entries_served: u64,
    /// 404 answers for indices past the end.
    pub not_found: u64,
    /// Requests that got an injected fault.
    pub faults_applied: u64,
}

/// The live form of [`Stats`], bumped by the request handlers.
#[derive(Default)]
pub(crate) struct Counters {
    pub connections: AtomicU64,
    pub api_requests: AtomicU64,
    pub log_info_requests: AtomicU64,
    pub entry_requests: AtomicU64,
    pub retrieve_requests: AtomicU64,
    pub entries_served: AtomicU64,
    pub not_found: AtomicU64,
    pub faults_applied: AtomicU64,
}

impl Counters {
    fn all(&self) -> [&AtomicU64; 8] {
        [
            &self.connections,
            &self.api_requests,
            &self.log_info_requests,
            &self.entry_requests,
            &self.retrieve_requests,
            &self.entries_served,
            &self.not_found,
            &self.faults_applied,
        ]
    }
}

/// Increments a counter.
pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// Shared state of one server.
pub struct Control {
    log: RwLock<Log>,
    faults: FaultPlan,
    delay_micros: AtomicU64,
    retrieve: Mutex<RetrieveMode>,
    pub(crate) counters: Counters,
    recording: AtomicBool,
    served_indices: Mutex<Vec<u64>>,
    last_headers: Mutex<Vec<(String, String)>>,
    connections: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its data consistent, even on panic.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Control {
    pub(crate) fn new(log: Log) -> Control {
        Control {
            log: RwLock::new(log),
            faults: FaultPlan::default(),
            delay_micros: AtomicU64::new(0),
            retrieve: Mutex::new(RetrieveMode::Enabled),
            counters: Counters::default(),
            recording: AtomicBool::new(false),
            served_indices: Mutex::new(Vec::new()),
            last_headers: Mutex::new(Vec::new()),
            connections: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
        }
    }

    // --- log content ---

    pub(crate) fn log(&self) -> RwLockReadGuard<'_, Log> {
        self.log.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the log in place (grow, put, malformed, ...).
    pub fn update_log<R>(&self, change: impl FnOnce(&mut Log) -> R) -> R {
        change(&mut self.log.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// Total size over all shards.
    pub fn size(&self) -> u64 {
        self.log().size()
    }

    /// Grows (or shrinks) the active shard to a total of `size`.
    pub fn set_size(&self, size: u64) {
        self.update_log(|log| log.set_size(size));
    }

    /// Serves `entry` at `index`, growing the log to include it.
    pub fn put(&self, index: u64, entry: Entry) {
        self.update_log(|log| log.put(index, entry));
    }

    /// Appends entries; returns the index of the first.
    pub fn append(&self, entries: impl IntoIterator<Item = Entry>) -> u64 {
        self.update_log(|log| log.append(entries))
    }

    pub fn set_malformed(&self, index: u64, how: Malformation) {
        self.update_log(|log| log.set_malformed(index, how));
    }

    /// Every read of `index` (by index or in a batch) answers 500 for
    /// ever, or again normally with `false`.
    pub fn set_unreadable(&self, index: u64, unreadable: bool) {
        self.update_log(|log| log.set_unreadable(index, unreadable));
    }

    /// What the server answers for `index`, exactly.
    pub fn served(&self, index: u64) -> Option<ServedEntry> {
        self.log().served(index)
    }

    // --- behaviour ---

    /// The next `count` requests matching `target` get `fault`.
    pub fn inject(&self, target: FaultTarget, fault: Fault, count: u64) {
        self.faults.inject(target, fault, count);
    }

    /// Injected faults not yet met by a request.
    pub fn pending_faults(&self) -> u64 {
        self.faults.pending()
    }

    pub fn clear_faults(&self) {
        self.faults.clear();
    }

    pub(crate) fn take_fault(&self, route: FaultTarget) -> Option<Fault> {
        let fault = self.faults.take(route);
        if fault.is_some() {
            bump(&self.counters.faults_applied, 1);
        }
        fault
    }

    /// Every API answer (faults included) waits this long first.
    pub fn set_delay(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.delay_micros.store(micros, Ordering::SeqCst);
    }

    pub fn delay(&self) -> Duration {
        Duration::from_micros(self.delay_micros.load(Ordering::SeqCst))
    }

    pub fn set_retrieve(&self, mode: RetrieveMode) {
        *lock(&self.retrieve) = mode;
    }

    pub fn retrieve(&self) -> RetrieveMode {
        *lock(&self.retrieve)
    }

    // --- observation ---

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
        Stats {
            connections: get(&c.connections),
            api_requests: get(&c.api_requests),
            log_info_requests: get(&c.log_info_requests),
            entry_requests: get(&c.entry_requests),
            retrieve_requests: get(&c.retrieve_requests),
            entries_served: get(&c.entries_served),
            not_found: get(&c.not_found),
            faults_applied: get(&c.faults_applied),
        }
    }

    /// Zeroes the counters and forgets recorded indices and headers.
    pub fn reset_stats(&self) {
        for counter in self.counters.all() {
            counter.store(0, Ordering::SeqCst);
        }
        lock(&self.served_indices).clear();
        lock(&self.last_headers).clear();
    }

    /// Records every served index and the headers of the latest API
    /// request. Off by default: it costs a lock per request.
    pub fn set_recording(&self, on: bool) {
        self.recording.store(on, Ordering::SeqCst);
    }

    /// Indices served in 200 answers while recording, in serving order.
    pub fn served_indices(&self) -> Vec<u64> {
        lock(&self.served_indices).clone()
    }

    /// Headers of the latest API request seen while recording.
    pub fn last_headers(&self) -> Vec<(String, String)> {
        lock(&self.last_headers).clone()
    }

    pub(crate) fn note_served(&self, indices: &[u64]) {
        bump(&self.counters.entries_served, indices.len() as u64);
        if self.recording.load(Ordering::Relaxed) {
            lock(&self.served_indices).extend_from_slice(indices);
        }
    }

    pub(crate) fn note_headers(&self, headers: &[(String, String)]) {
        if self.recording.load(Ordering::Relaxed) {
            *lock(&self.last_headers) = headers.to_vec();
        }
    }

    // --- connections ---

    /// Registers a live connection so it can be dropped on demand.
    pub(crate) fn register(&self, stream: &TcpStream) -> u64 {
        bump(&self.counters.connections, 1);
        let id = self.next_connection.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&self.connections).insert(id, clone);
        }
        id
    }

    pub(crate) fn unregister(&self, id: u64) {
        lock(&self.connections).remove(&id);
    }

    /// Closes every live connection now (clients see a reset or EOF in the
    /// middle of whatever they were doing), except `keep`.
    pub(crate) fn drop_connections_except(&self, keep: Option<u64>) {
        for (id, conn) in lock(&self.connections).iter() {
            if Some(*id) != keep {
                let _ = conn.shutdown(Shutdown::Both);
            }
        }
    }

    /// Closes every live connection now.
    pub fn drop_connections(&self) {
        self.drop_connections_except(None);
    }
}
