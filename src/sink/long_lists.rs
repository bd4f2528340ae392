//! Which UUIDs a long Redis list already holds, read once per run.
//!
//! Why: the Redis index is one list per key, and Redis has no cheap
//! membership test on a list. `LREM key 0 uuid` (the old way to make a
//! rewrite idempotent) scans the whole list: on a key listed by 10^6
//! entries (one CI identity, one PGP key) each write costs tens of
//! milliseconds of Redis CPU, blocks every other client meanwhile, and a
//! backfill becomes quadratic. So a list at or above [`LONG_LIST`] elements
//! is read once, in pages of [`PAGE`] elements from its tail, into a sorted
//! array of 8-byte fingerprints; afterwards a write to it is a plain `LPUSH`
//! of the UUIDs whose fingerprint is not in the array. Shorter lists keep
//! `LREM`+`LPUSH` (cheap below the threshold, and it also repairs
//! duplicates someone else left there).
//!
//! Why this is exact (each UUID exactly once, a rerun changes nothing):
//! - The snapshot holds every element present when it was read. Pages are
//!   taken from the tail with negative indices, which `LPUSH` (the only
//!   way the server and this tool add to a list) never shifts, so a list
//!   that grows at its head while it is read is read whole.
//! - A UUID written by this run cannot be in the list unless this run put
//!   it there: every log index is processed once per run, and a UUID
//!   belongs to one index. So the snapshot is never updated with this
//!   run's own pushes (that would only cost memory), and two workers
//!   writing the same key never race on the same UUID.
//! - A failed write may have partly happened: the sink calls
//!   [`LongLists::forget`] for the chunk's long keys, and the retry (or
//!   the next chunk) reads the list again, this time with whatever got
//!   through. A process that dies mid-chunk leaves nothing behind: the
//!   rerun reads the list afresh.
//! - The server appends only entries it is accepting now, beyond the
//!   range a run covers (its `--end` is at most the log size when it
//!   started); an entry integrated in the moment before the run read the
//!   list, whose keys the server was still writing, is the one window left.
//! - Fingerprints are SipHash-1-3 under a random key per run: two UUIDs
//!   share one with probability 2^-64 per pair (about 5·10^-6 for 10^7
//!   writes checked against 10^7 listed UUIDs), and nobody can craft a
//!   UUID that collides with another on purpose.
//!
//! Cost: one `LLEN` per key not known to be long, per chunk (pipelined);
//! reading a long list once per run (`LLEN / PAGE` round trips); per write
//! a binary search. No command touches more than [`PAGE`] elements or
//! scans more than [`LONG_LIST`] (plus what arrived since its `LLEN`).
//!
//! Memory: fingerprints are held only for lists read, 8 bytes per listed
//! UUID (plus 1/16 and one page of room for growth during the read), at
//! most [`BUDGET`] of them over all keys (32 MiB), whatever the range or
//! its key mix; the run's own writes are never added, and the array is
//! neither grown nor shrunk after it is allocated. So peak RSS is the
//! tool's own (11-27 MiB at `--concurrency` 5-20 in `make bench`) plus at
//! most 32 MiB, under 64 MiB at any range size. A long list
//! that does not fit into what is left of the budget is checked by reading
//! it in pages for each chunk that writes to it: still exact, still no
//! slow command, but linear in the list again (a warning says so once).
//! At most [`MAX_KEYS`] keys are tracked; beyond that, long keys take the
//! same paged path.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};

use redis::{Connection, RedisResult};

/// A list with at least this many elements is read once instead of
/// `LREM`-ed per write (an `LREM` over 1,000 UUIDs takes Redis ~10-30 µs).
pub const LONG_LIST: usize = 1_000;
/// Elements per `LRANGE` page (~200 KB of reply, well under 1 ms in Redis).
pub const PAGE: usize = 2_000;
/// Fingerprints held over all long lists (8 bytes each: 32 MiB).
pub const BUDGET: usize = 4 << 20;
/// Keys tracked at once (each costs its name and a few words).
pub const MAX_KEYS: usize = 65_536;

/// The long lists of one run, shared by all its sinks (workers).
#[derive(Clone, Default)]
pub struct LongLists {
    inner: Arc<Registry>,
}

impl std::fmt::Debug for LongLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = lock(&self.inner.keys).len();
        write!(
            f,
            "LongLists {{ keys: {keys}, fingerprints: {} }}",
            lock(&self.inner.budget).used
        )
    }
}

#[derive(Default)]
struct Registry {
    hasher: RandomState,
    keys: Mutex<HashMap<String, Arc<Mutex<State>>>>,
    budget: Mutex<Budget>,
}

struct Budget {
    limit: usize,
    used: usize,
    warned: bool,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            limit: BUDGET,
            used: 0,
            warned: false,
        }
    }
}

/// What is known about one long list.
enum State {
    /// Not read yet (or forgotten after a failed write).
    Unread,
    /// Sorted fingerprints of every UUID the list held when it was read.
    Read(Vec<u64>),
    /// Too long for what is left of the budget: checked page by page.
    Paged,
}

impl LongLists {
    /// A registry that holds at most `fingerprints` (instead of
    /// [`BUDGET`]); tests use it to reach the paged path on short lists.
    pub fn with_budget(fingerprints: usize) -> LongLists {
        let lists = LongLists::default();
        lock(&lists.inner.budget).limit = fingerprints;
        lists
    }

    /// Whether `key` is known to be a long list (no I/O).
    pub fn is_long(&self, key: &str) -> bool {
        lock(&self.inner.keys).contains_key(key)
    }

    /// Records that `key` holds at least [`LONG_LIST`] elements; it is read
    /// at its next write. Lists never shrink (the server only pushes), so
    /// a key stays long for the run.
    pub fn mark_long(&self, key: &str) {
        let mut keys = lock(&self.inner.keys);
        if keys.len() < MAX_KEYS && !keys.contains_key(key) {
            keys.insert(key.to_string(), Arc::new(Mutex::new(State::Unread)));
        }
    }

    /// Of `uuids` (distinct), those the long list `key` does not hold yet,
    /// in their order. Reads the list first if this run has not. Holds the
    /// key's lock meanwhile, so other workers wait for one read instead of
    /// each doing their own.
    pub fn missing<'a>(
        &self,
        con: &mut Connection,
        key: &str,
        uuids: &[&'a str],
    ) -> RedisResult<Vec<&'a str>> {
        let Some(state) = lock(&self.inner.keys).get(key).cloned() else {
            return paged_missing(con, key, uuids);
        };
        let mut state = lock(&state);
        if let State::Unread = *state {
            *state = self.read(con, key)?;
        }
        match &*state {
            State::Read(fingerprints) => Ok(uuids
                .iter()
                .copied()
                .filter(|u| fingerprints.binary_search(&self.fingerprint(u)).is_err())
                .collect()),
            State::Paged | State::Unread => paged_missing(con, key, uuids),
        }
    }

    /// Drops what is known about `key`'s contents (after a write to it
    /// failed and may have partly happened); the next write reads it again.
    pub fn forget(&self, key: &str) {
        let Some(state) = lock(&self.inner.keys).get(key).cloned() else {
            return;
        };
        let mut state = lock(&state);
        if let State::Read(fingerprints) = &*state {
            let mut budget = lock(&self.inner.budget);
            budget.used = budget.used.saturating_sub(fingerprints.capacity());
        }
        *state = State::Unread;
    }

    /// Drops everything known (the server came back without its data: no
    /// list is long any more, none holds what was read).
    pub fn forget_all(&self) {
        lock(&self.inner.keys).clear();
        lock(&self.inner.budget).used = 0;
    }

    /// Fingerprints held now (room for them, counted by capacity), over
    /// all keys.
    pub fn fingerprints(&self) -> usize {
        lock(&self.inner.budget).used
    }

    fn fingerprint(&self, uuid: &str) -> u64 {
        self.inner.hasher.hash_one(uuid.as_bytes())
    }

    /// Reads the whole list into fingerprints, if they fit the budget.
    fn read(&self, con: &mut Connection, key: &str) -> RedisResult<State> {
        let len: usize = redis::cmd("LLEN").arg(key).query(con)?;
        // Room for what arrives while it is read.
        let reserve = len + len / 16 + PAGE;
        {
            let mut budget = lock(&self.inner.budget);
            if budget.used + reserve > budget.limit {
                if !budget.warned {
                    budget.warned = true;
                    log::warn!(
                        "Redis list {key:?} holds {len} UUIDs, more than the {} fingerprints \
                         left of the {} this run keeps in memory; it and any other such \
                         list are checked page by page for each chunk that writes to them \
                         (exact, but slower)",
                        budget.limit - budget.used,
                        budget.limit
                    );
                }
                return Ok(State::Paged);
            }
            budget.used += reserve;
        }
        // Never grown past what was reserved (a list that grew that much
        // while it was read takes the paged path), and not shrunk after:
        // either would hold two arrays at once for a moment.
        let mut fingerprints = Vec::with_capacity(reserve);
        let mut overflow = false;
        let result = for_each_page(con, key, |page| {
            if fingerprints.len() + page.len() > fingerprints.capacity() {
                overflow = true;
                return false;
            }
            fingerprints.extend(
                page.iter()
                    .map(|u| self.inner.hasher.hash_one(u.as_slice())),
            );
            true
        });
        let mut budget = lock(&self.inner.budget);
        if result.is_err() || overflow {
            budget.used -= reserve;
            result?;
            return Ok(State::Paged);
        }
        fingerprints.sort_unstable();
        let total = fingerprints.len();
        fingerprints.dedup();
        if fingerprints.len() < total {
            log::warn!(
                "Redis list {key:?} already holds {} duplicate UUIDs (not written by this run; \
                 left as they are)",
                total - fingerprints.len()
            );
        }
        // The reserve stays charged: the array keeps its capacity.
        log::debug!("read Redis list {key:?}: {total} UUIDs");
        Ok(State::Read(fingerprints))
    }
}

/// Of `uuids`, those `key` does not hold, by reading the list page by page
/// (stops early once all are found).
fn paged_missing<'a>(
    con: &mut Connection,
    key: &str,
    uuids: &[&'a str],
) -> RedisResult<Vec<&'a str>> {
    let mut absent: HashSet<&[u8]> = uuids.iter().map(|u| u.as_bytes()).collect();
    for_each_page(con, key, |page| {
        for listed in page {
            absent.remove(listed.as_slice());
        }
        !absent.is_empty()
    })?;
    Ok(uuids
        .iter()
        .copied()
        .filter(|u| absent.contains(u.as_bytes()))
        .collect())
}

/// Calls `f` on each page of the list, from the tail to the head, until
/// `f` returns false or the list is read. Negative indices: `LPUSH` at the
/// head during the read shifts no element still to be read.
fn for_each_page(
    con: &mut Connection,
    key: &str,
    mut f: impl FnMut(&[Vec<u8>]) -> bool,
) -> RedisResult<()> {
    let page = PAGE as i64;
    let mut done: i64 = 0;
    loop {
        let items: Vec<Vec<u8>> = redis::cmd("LRANGE")
            .arg(key)
            .arg(-(done + page))
            .arg(-(done + 1))
            .query(con)?;
        let n = items.len() as i64;
        done += n;
        if !f(&items) || n < page {
            return Ok(());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere leaves the data consistent (every update is one
    // assignment), so carry on with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_forgets_without_io() {
        let lists = LongLists::default();
        assert!(!lists.is_long("k"));
        lists.mark_long("k");
        lists.mark_long("k");
        assert!(lists.is_long("k"));
        lists.forget("k");
        assert!(lists.is_long("k"), "forgetting drops contents, not the key");
        assert_eq!(lists.fingerprints(), 0);
        // Clones share one registry (one per run).
        let other = lists.clone();
        other.mark_long("j");
        assert!(lists.is_long("j"));
        assert!(!LongLists::default().is_long("j"));
    }

    #[test]
    fn fingerprints_are_stable_within_a_run() {
        let lists = LongLists::default();
        assert_eq!(lists.fingerprint("u1"), lists.fingerprint("u1"));
        assert_ne!(lists.fingerprint("u1"), lists.fingerprint("u2"));
    }

    #[test]
    fn tracked_keys_are_bounded() {
        let lists = LongLists::default();
        for i in 0..MAX_KEYS + 10 {
            lists.mark_long(&format!("k{i}"));
        }
        assert_eq!(lock(&lists.inner.keys).len(), MAX_KEYS);
        assert!(!lists.is_long(&format!("k{}", MAX_KEYS + 5)));
    }
}
