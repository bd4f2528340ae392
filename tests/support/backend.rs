//! What a scenario needs from an index backend, and the index snapshot the
//! scenarios compare. The Redis and MySQL adapters differ only here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::private::PrivateService;

/// A stored checkpoint, as read back from the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub first_index: u64,
    pub last_completed_index: u64,
}

/// A failure record as read back from the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFailure {
    pub uuid: String,
    pub kind: String,
    pub error: String,
    pub attempts: u64,
}

/// The index restricted to one test's UUIDs: key → UUIDs, sorted, with
/// duplicates kept (a Redis list may hold one twice; that is a bug to see).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot(pub BTreeMap<String, Vec<String>>);

impl Snapshot {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Snapshot {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, uuid) in pairs {
            map.entry(key).or_default().push(uuid);
        }
        for uuids in map.values_mut() {
            uuids.sort();
        }
        Snapshot(map)
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .flat_map(|(k, us)| us.iter().map(move |u| (k.as_str(), u.as_str())))
    }

    pub fn len(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, key: &str, uuid: &str) -> bool {
        self.0
            .get(key)
            .is_some_and(|us| us.binary_search_by(|u| u.as_str().cmp(uuid)).is_ok())
    }

    /// (key, uuid) pairs stored more than once.
    pub fn duplicates(&self) -> Vec<(String, String)> {
        let mut dups = Vec::new();
        for (key, uuids) in &self.0 {
            for pair in uuids.windows(2) {
                if pair[0] == pair[1] {
                    dups.push((key.clone(), pair[0].clone()));
                }
            }
        }
        dups
    }

    /// The same index with UUIDs reduced to their leaf hash, so that runs
    /// over logs with different tree IDs (one per test) compare equal.
    pub fn leaf_view(&self) -> Snapshot {
        Snapshot::from_pairs(
            self.pairs()
                .map(|(k, u)| (k.to_string(), u[u.len().saturating_sub(64)..].to_string())),
        )
    }

    /// Pairs whose UUID is not in `uuids`.
    pub fn without_uuids(&self, uuids: &[String]) -> Snapshot {
        Snapshot::from_pairs(
            self.pairs()
                .filter(|(_, u)| !uuids.iter().any(|x| x == u))
                .map(|(k, u)| (k.to_string(), u.to_string())),
        )
    }

    /// A readable account of how `self` differs from `expected`.
    pub fn diff(&self, expected: &Snapshot) -> String {
        let mut out = String::new();
        let mut missing = 0;
        let mut extra = 0;
        for (k, u) in expected.pairs() {
            if !self.contains(k, u) {
                missing += 1;
                if missing <= 10 {
                    let _ = writeln!(out, "  missing: {k} -> {u}");
                }
            }
        }
        for (k, u) in self.pairs() {
            if !expected.contains(k, u) {
                extra += 1;
                if extra <= 10 {
                    let _ = writeln!(out, "  unexpected: {k} -> {u}");
                }
            }
        }
        let dups = self.duplicates();
        for (k, u) in dups.iter().take(10) {
            let _ = writeln!(out, "  duplicate: {k} -> {u}");
        }
        format!(
            "{} pairs stored, {} expected: {missing} missing, {extra} unexpected, {} duplicates\n{out}",
            self.len(),
            expected.len(),
            dups.len()
        )
    }
}

/// Panics with a diff unless the index equals `expected`.
#[track_caller]
pub fn assert_same(actual: &Snapshot, expected: &Snapshot, what: &str) {
    if actual != expected {
        panic!(
            "{what}: the index differs from the expected one: {}",
            actual.diff(expected)
        );
    }
}

/// An index backend as the scenarios see it.
pub trait IndexBackend {
    /// "redis" or "mysql", for messages.
    const NAME: &'static str;

    /// The shared test instance named by the environment; panics with a
    /// clear message when the environment does not name one.
    fn from_env() -> Self
    where
        Self: Sized;

    /// Flags that point the tool at this backend.
    fn tool_args(&self) -> Vec<String>;

    /// Secrets the tool is given; none may ever appear in its output.
    fn secrets(&self) -> Vec<String>;

    /// The same backend reached with a wrong password, and that password.
    fn with_wrong_password(&self, password: &str) -> Vec<String>;

    /// A key as this backend stores it (Redis lowercases).
    fn stored_key(&self, key: &str) -> String;

    /// Index pairs whose UUID starts with one of `prefixes`.
    fn snapshot(&self, prefixes: &[String]) -> Snapshot;

    /// Removes one (key, uuid) pair.
    fn remove(&self, key: &str, uuid: &str);

    fn checkpoint(&self, name: &str) -> Option<Checkpoint>;

    fn delete_checkpoint(&self, name: &str);

    /// The failure records of checkpoint `name`, by log index.
    fn failures(&self, name: &str) -> BTreeMap<u64, StoredFailure>;

    fn delete_failures(&self, name: &str);

    /// A dedicated instance that a test may crash and restart, and the
    /// backend reaching it.
    fn launch_private() -> (Box<dyn PrivateService>, Self)
    where
        Self: Sized;

    /// Ends the lease on checkpoint `name` of a run that could not release
    /// it (SIGKILLed, or its backend was down when it ended) now, as its
    /// time to live would (Redis; MySQL drops the lock with the run's
    /// connection), so a rerun need not wait for it. tests/lease_shards.rs
    /// tests the expiry itself.
    fn drop_lease(&self, _name: &str) {}

    /// Removes every pair whose UUID starts with one of `prefixes`.
    fn purge(&self, prefixes: &[String]) {
        for (key, uuid) in self.snapshot(prefixes).pairs() {
            self.remove(key, uuid);
        }
    }
}
