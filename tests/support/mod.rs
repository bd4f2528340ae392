//! Shared machinery of the integration scenarios (tests/scenarios_*.rs):
//! a replay Rekor server per test, the tool run as a process, and the
//! index read back from a real Redis or MySQL.
//!
//! Isolation: every test serves the corpus under its own tree ID, so its
//! entry UUIDs (tree ID + leaf hash) are its own; snapshots, removals and
//! purges only touch those UUIDs, and each test has its own checkpoint key.
//! The keys themselves are shared (same corpus), so scenarios run one at a
//! time, on either backend ([`serial`]), which also keeps timing-sensitive
//! scenarios (kills, signals) away from each other's load.
//!
//! A module of the one integration binary (tests/tests.rs); some helpers
//! serve one backend's scenarios only.
#![allow(dead_code)]

pub mod backend;
pub mod keys;
pub mod mysql_backend;
pub mod p256;
pub mod private;
pub mod redis_backend;
pub mod scenarios;
pub mod tool;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread;

use replay_rekor::{load_corpus, Entry, Log, ReplayServer, ServedEntry};
use sha2::{Digest, Sha256};

use backend::{Checkpoint, IndexBackend, Snapshot};
use tool::{Outcome, Running};

/// An environment variable the scenarios cannot run without.
pub fn require_env(name: &str, example: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} is not set: the integration scenarios need the test services.\n\
             Start them with `harness/services.sh start` and `eval \"$(harness/services.sh env)\"`\n\
             (expected e.g. {name}={example})."
        ),
    }
}

/// One scenario at a time; a failed test does not block the rest.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The real entries served by every test log, in corpus order.
pub fn corpus() -> Vec<Entry> {
    static CORPUS: OnceLock<Vec<Entry>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            load_corpus(Path::new(crate::util::CORPUS))
                .unwrap_or_else(|e| panic!("loading the corpus: {e:#}"))
        })
        .clone()
}

/// A tree ID of its own for `label` (a positive int64, as Trillian's).
fn tree_id(label: &str) -> u64 {
    let digest = Sha256::digest(label.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes) & 0x7fff_ffff_ffff_ffff
}

/// A small seeded generator (xorshift64*), seed printed for replay:
/// REKOR_BACKFILL_TEST_SEED=N reruns the same random choices.
pub struct Rng(u64);

impl Rng {
    pub fn new(what: &str) -> Rng {
        let seed = std::env::var("REKOR_BACKFILL_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("{what}: REKOR_BACKFILL_TEST_SEED={seed}");
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Flag defaults of every run (besides address and checkpoint key); a test
/// overrides one by passing the flag.
const DEFAULT_FLAGS: [(&str, &str); 4] = [
    ("--rekor-retry-wait-min", "10ms"),
    ("--rekor-retry-wait-max", "50ms"),
    ("--concurrency", "4"),
    ("--checkpoint-interval", "20"),
];

/// Tool arguments: `backend_args`, then the Rekor address, the checkpoint
/// key and the defaults, each unless `extra` gives it, then `extra`.
fn tool_args(
    url: &str,
    checkpoint: &str,
    backend_args: Vec<String>,
    extra: &[&str],
) -> Vec<String> {
    let own = [("--rekor-address", url), ("--checkpoint-key", checkpoint)];
    let mut args = backend_args;
    for (flag, value) in own.into_iter().chain(DEFAULT_FLAGS) {
        if !extra.contains(&flag) {
            args.push(flag.to_string());
            args.push(value.to_string());
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The share of corpus entries that must have keys for the index
/// comparisons to mean something; the others are expected per-entry
/// failures (exit 3), and `every_corpus_entry_has_keys` reports them.
const MIN_KEYED_SHARE: f64 = 0.5;

/// Fails unless most corpus entries have keys.
fn assert_corpus_mostly_keyed() {
    let log = Log::new(corpus());
    let bodies: Vec<String> = (0..log.size())
        .filter_map(|i| log.served(i))
        .map(|e| e.body_b64)
        .collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let results = keys::keys_of(&refs);
    let keyed = results.iter().filter(|r| r.is_ok()).count();
    assert!(
        keyed as f64 >= MIN_KEYED_SHARE * results.len() as f64,
        "only {keyed} of {} corpus entries have keys according to `rekor-backfill keys`: \
         the scenarios cannot check the index (see every_corpus_entry_has_keys); first errors: {:?}",
        results.len(),
        results.iter().filter_map(|r| r.as_ref().err()).take(3).collect::<Vec<_>>()
    );
}

/// The expected index pairs of one entry, or why it has none.
pub type EntryPairs = Result<Vec<(String, String)>, String>;

/// One scenario's world: a replay server with this test's log, the
/// backend, a checkpoint key and a scratch directory.
pub struct Fixture<B: IndexBackend> {
    pub backend: B,
    pub server: ReplayServer,
    /// Checkpoint key, unique per test.
    pub name: String,
    /// UUID prefixes (tree IDs) of this test's log.
    pub prefixes: Vec<String>,
    pub dir: tempfile::TempDir,
    _serial: MutexGuard<'static, ()>,
}

impl<B: IndexBackend> Fixture<B> {
    /// The corpus as a log of 459 entries, on the shared backend.
    pub fn new(test: &str) -> Fixture<B> {
        Fixture::build(test, B::from_env(), None)
    }

    /// The corpus split into an inactive shard of `inactive` entries and an
    /// active one with the rest.
    pub fn sharded(test: &str, inactive: u64) -> Fixture<B> {
        Fixture::build(test, B::from_env(), Some(inactive))
    }

    /// The corpus log on a given backend (e.g. a private instance).
    pub fn on_backend(test: &str, backend: B) -> Fixture<B> {
        Fixture::build(test, backend, None)
    }

    fn build(test: &str, backend: B, inactive: Option<u64>) -> Fixture<B> {
        let serial = serial();
        assert_corpus_mostly_keyed();
        let label = format!("{}-{test}", B::NAME);
        let mut log = Log::new(corpus()).with_tree_id(tree_id(&label));
        if let Some(size) = inactive {
            log = log.with_inactive_shard(tree_id(&format!("{label}-inactive")), size);
        }
        let mut prefixes = vec![format!("{:016x}", log.active_shard().tree_id)];
        prefixes.extend(log.inactive_shard().map(|s| format!("{:016x}", s.tree_id)));
        let server = ReplayServer::start(log).expect("starting the replay server");
        server.set_recording(true);
        let fixture = Fixture {
            backend,
            server,
            name: format!("itest-{test}"),
            prefixes,
            dir: tempfile::tempdir().expect("temp dir"),
            _serial: serial,
        };
        // Leftovers of an earlier, interrupted run of this test.
        fixture.purge();
        fixture
    }

    pub fn size(&self) -> u64 {
        self.server.size()
    }

    /// Tool arguments for this test's server and checkpoint key.
    pub fn args_with_backend(&self, backend_args: Vec<String>, extra: &[&str]) -> Vec<String> {
        tool_args(&self.server.url(), &self.name, backend_args, extra)
    }

    pub fn args(&self, extra: &[&str]) -> Vec<String> {
        self.args_with_backend(self.backend.tool_args(), extra)
    }

    pub fn run(&self, extra: &[&str]) -> Outcome {
        tool::run(&self.args(extra), &[])
    }

    pub fn spawn(&self, extra: &[&str]) -> Running {
        tool::spawn(&self.args(extra), &[], None)
    }

    /// This test's part of the index.
    pub fn snapshot(&self) -> Snapshot {
        self.backend.snapshot(&self.prefixes)
    }

    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.backend.checkpoint(&self.name)
    }

    pub fn entry(&self, index: u64) -> ServedEntry {
        self.server
            .served(index)
            .unwrap_or_else(|| panic!("index {index} is past the end of the log"))
    }

    /// Expected index pairs of each index, as stored by this backend.
    /// Malformed entries and entries `keys` cannot key have none.
    pub fn expected_by_index(
        &self,
        indices: impl IntoIterator<Item = u64>,
    ) -> Vec<(u64, EntryPairs)> {
        let entries: Vec<ServedEntry> = indices.into_iter().map(|i| self.entry(i)).collect();
        let bodies: Vec<&str> = entries
            .iter()
            .filter(|e| e.malformed.is_none())
            .map(|e| e.body_b64.as_str())
            .collect();
        let mut keys = keys::keys_of(&bodies).into_iter();
        entries
            .iter()
            .map(|entry| {
                let pairs = match entry.malformed {
                    Some(how) => Err(format!("served malformed ({})", how.name())),
                    None => keys.next().expect("one result per body").map(|keys| {
                        let unique: BTreeSet<String> =
                            keys.iter().map(|k| self.backend.stored_key(k)).collect();
                        unique
                            .into_iter()
                            .map(|k| (k, entry.uuid.clone()))
                            .collect()
                    }),
                };
                (entry.log_index, pairs)
            })
            .collect()
    }

    /// The index a correct run over `indices` writes.
    pub fn expected(&self, indices: impl IntoIterator<Item = u64>) -> Snapshot {
        Snapshot::from_pairs(
            self.expected_by_index(indices)
                .into_iter()
                .filter_map(|(_, pairs)| pairs.ok())
                .flatten(),
        )
    }

    /// Indices of `indices` that a correct run reports as failed.
    pub fn expected_failures(&self, indices: impl IntoIterator<Item = u64>) -> BTreeSet<u64> {
        self.expected_by_index(indices)
            .into_iter()
            .filter(|(_, p)| p.is_err())
            .map(|(i, _)| i)
            .collect()
    }

    /// What a run fetches when earlier runs of its checkpoint covered
    /// `0..done` and it processes `range`: first the failures they
    /// recorded (every run retries them), then its range; sorted.
    pub fn fetched_by_resume(&self, done: u64, range: std::ops::Range<u64>) -> Vec<u64> {
        let mut fetched: Vec<u64> = self.expected_failures(0..done).into_iter().collect();
        fetched.extend(range);
        fetched.sort_unstable();
        fetched
    }

    /// Exit status of a correct complete run over `indices`.
    pub fn expected_exit(&self, indices: impl IntoIterator<Item = u64>) -> i32 {
        if self.expected_failures(indices).is_empty() {
            tool::EXIT_OK
        } else {
            tool::EXIT_ENTRY_FAILURES
        }
    }

    /// The checkpoint invariant: every index the stored checkpoint claims
    /// has all its keys in the index. Returns the checkpoint.
    #[track_caller]
    pub fn assert_checkpoint_sound(&self, when: &str) -> Option<Checkpoint> {
        let cp = self.checkpoint()?;
        assert!(
            cp.first_index <= cp.last_completed_index,
            "{when}: inconsistent checkpoint {cp:?}"
        );
        let snapshot = self.snapshot();
        for (index, pairs) in self.expected_by_index(cp.first_index..=cp.last_completed_index) {
            for (key, uuid) in pairs.unwrap_or_default() {
                assert!(
                    snapshot.contains(&key, &uuid),
                    "{when}: the checkpoint {cp:?} claims index {index} is written, \
                     but {key} -> {uuid} is not in the index"
                );
            }
        }
        Some(cp)
    }

    /// The index of an uninterrupted run over the standard corpus log,
    /// reduced to leaf hashes (computed once per backend).
    pub fn reference(&self) -> &'static Snapshot {
        // A static in a generic function is one for all backends: keep one
        // cell per backend (the stored keys differ, Redis lowercases them).
        static REFERENCES: Mutex<BTreeMap<&str, &'static OnceLock<Snapshot>>> =
            Mutex::new(BTreeMap::new());
        let cell: &'static OnceLock<Snapshot> = REFERENCES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(B::NAME)
            .or_insert_with(|| Box::leak(Box::new(OnceLock::new())));
        cell.get_or_init(|| {
            let tree = tree_id(&format!("{}-reference", B::NAME));
            let prefixes = vec![format!("{tree:016x}")];
            let server = ReplayServer::start(Log::new(corpus()).with_tree_id(tree))
                .expect("starting the reference server");
            let name = "itest-reference";
            self.backend.purge(&prefixes);
            self.backend.delete_checkpoint(name);
            self.backend.delete_failures(name);
            let args = tool_args(&server.url(), name, self.backend.tool_args(), &[]);
            let out = tool::run(&args, &[]);
            out.expect_code(self.expected_exit(0..server.size()), "reference run");
            let snapshot = self.backend.snapshot(&prefixes);
            self.backend.purge(&prefixes);
            self.backend.delete_checkpoint(name);
            self.backend.delete_failures(name);
            assert!(!snapshot.is_empty(), "the reference run indexed nothing");
            snapshot.leaf_view()
        })
    }

    /// Fails unless this test's index equals the reference run's.
    #[track_caller]
    pub fn assert_index_is_reference(&self, what: &str) {
        backend::assert_same(&self.snapshot().leaf_view(), self.reference(), what);
    }

    /// Fails if any secret given to the tool shows in its output. The
    /// backend's own password is checked only when it is distinctive
    /// enough not to occur by chance (the shared services use "test");
    /// the scenarios pass distinctive secrets in `extra`.
    #[track_caller]
    pub fn assert_no_secrets(&self, out: &Outcome, extra: &[&str]) {
        let secrets = self.backend.secrets();
        let distinctive = secrets.iter().map(String::as_str).filter(|s| s.len() >= 8);
        for secret in distinctive.chain(extra.iter().copied()) {
            assert!(
                !out.stderr.contains(secret) && !out.stdout.contains(secret),
                "a secret ({} chars) appears in the tool's output:\n{}",
                secret.len(),
                out.stderr
            );
        }
    }

    /// Removes this test's index pairs, checkpoint and failure records.
    pub fn purge(&self) {
        self.backend.purge(&self.prefixes);
        self.backend.delete_checkpoint(&self.name);
        self.backend.delete_failures(&self.name);
        // A lease left behind (lease_shards' thief holds one for 600 s)
        // would make a rerun of the test within that time exit 4.
        self.backend.drop_lease(&self.name);
    }

    /// The failure records of this test's checkpoint, by log index.
    pub fn failures(&self) -> BTreeMap<u64, backend::StoredFailure> {
        self.backend.failures(&self.name)
    }
}

impl<B: IndexBackend> Drop for Fixture<B> {
    fn drop(&mut self) {
        // Keep the evidence of a failure; never panic while unwinding.
        if !thread::panicking() {
            self.purge();
        }
    }
}

/// The first index from `start` on that is not in `indices`.
pub fn contiguous_from(indices: &[u64], start: u64) -> u64 {
    let set: BTreeSet<u64> = indices.iter().copied().collect();
    let mut n = start;
    while set.contains(&n) {
        n += 1;
    }
    n
}
