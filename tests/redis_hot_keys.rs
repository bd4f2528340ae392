//! Hot keys in the Redis index against a real Redis (run
//! `harness/services.sh start` and `eval "$(harness/services.sh env)"`
//! first): lists that hold 10^6 UUIDs are merged with exactly once, without
//! one Redis command of ours over 10 ms (Redis' `SLOWLOG`), also while the
//! list grows past the long-list threshold during the run, while someone
//! else pushes to it, and when the run's memory budget is too small to hold
//! it. Every test uses its own key prefix and removes its keys at the end.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rekor_backfill::redact::Secret;
use rekor_backfill::sink::{Backend, IndexedEntry, LongLists, RedisBackend};

/// The slow-log threshold the issue sets for our commands, in µs.
const SLOW_US: u64 = 10_000;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run `harness/services.sh start` and \
             `eval \"$(harness/services.sh env)\"` before `cargo test`"
        )
    })
}

fn backend(long_lists: LongLists) -> RedisBackend {
    let address = env("REKOR_BACKFILL_TEST_REDIS");
    let (host, port) = address.rsplit_once(':').expect("host:port");
    RedisBackend {
        host: host.to_string(),
        port: port.parse().expect("port"),
        username: None,
        password: Some(Secret::new(env("REKOR_BACKFILL_TEST_REDIS_PASSWORD"))),
        db: 0,
        tls: false,
        insecure_skip_verify: false,
        long_lists,
    }
}

fn raw() -> redis::Connection {
    let address = env("REKOR_BACKFILL_TEST_REDIS");
    let password = env("REKOR_BACKFILL_TEST_REDIS_PASSWORD");
    redis::Client::open(format!("redis://:{password}@{address}/"))
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
        .expect("connecting to the harness Redis")
}

/// A lowercase key prefix no other test uses; its keys are unlinked on drop.
struct Prefix(String);

impl Prefix {
    fn new(test: &str) -> Prefix {
        raw();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Prefix(format!("rbhot-{}-{nanos}-{test}:", std::process::id()))
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.0)
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let mut con = raw();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.0))
            .query(&mut con)
            .unwrap_or_default();
        if !keys.is_empty() {
            // UNLINK: freeing a 10^6-element list must not block the server.
            let _: Result<(), _> = redis::cmd("UNLINK").arg(keys).query(&mut con);
        }
    }
}

/// A UUID-shaped value (80 hex characters, like the ones Rekor lists).
fn uuid(tag: &str, i: usize) -> String {
    let seed = format!("{tag}-{i}");
    let mut hex = String::with_capacity(80);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    while hex.len() < 80 {
        for b in seed.bytes().chain(hex.len().to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        hex.push_str(&format!("{h:016x}"));
    }
    hex.truncate(80);
    hex
}

/// Fills `key` with `n` UUIDs tagged `tag`, in pipelined `RPUSH`es of 10,000.
fn fill(key: &str, tag: &str, n: usize) {
    let mut con = raw();
    let mut i = 0;
    while i < n {
        let mut pipeline = redis::pipe();
        for _ in 0..10 {
            let end = n.min(i + 10_000);
            if i == end {
                break;
            }
            let batch: Vec<String> = (i..end).map(|j| uuid(tag, j)).collect();
            pipeline.cmd("RPUSH").arg(key).arg(batch).ignore();
            i = end;
        }
        pipeline.query::<()>(&mut con).expect("filling a list");
    }
}

/// Every element of the list, read in pages (as a multiset).
fn contents(key: &str) -> HashMap<String, usize> {
    let mut con = raw();
    let mut counts = HashMap::new();
    let mut start = 0isize;
    loop {
        let page: Vec<String> = redis::cmd("LRANGE")
            .arg(key)
            .arg(start)
            .arg(start + 9_999)
            .query(&mut con)
            .expect("LRANGE");
        for item in &page {
            *counts.entry(item.clone()).or_insert(0) += 1;
        }
        if page.len() < 10_000 {
            return counts;
        }
        start += 10_000;
    }
}

fn llen(key: &str) -> usize {
    redis::cmd("LLEN").arg(key).query(&mut raw()).expect("LLEN")
}

/// Writes `entries` in chunks of 10 through `workers` sinks of one backend
/// (one run), the chunks shared out between them like the pipeline does.
fn run(backend: &RedisBackend, entries: &[IndexedEntry], workers: usize) {
    let chunks: Mutex<std::slice::Chunks<'_, IndexedEntry>> = Mutex::new(entries.chunks(10));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let chunks = &chunks;
            let mut sink = backend.connect_sink().expect("connecting a sink");
            scope.spawn(move || loop {
                let Some(chunk) = chunks.lock().unwrap().next() else {
                    return;
                };
                sink.write(chunk).expect("writing a chunk");
            });
        }
    });
}

/// Sets the slow-log threshold to [`SLOW_US`] and empties the log; puts the
/// old threshold back on drop. One test at a time (the log is the server's).
struct SlowLog {
    before: String,
    _serial: std::sync::MutexGuard<'static, ()>,
}

static SLOWLOG_USERS: Mutex<()> = Mutex::new(());

impl SlowLog {
    fn arm() -> SlowLog {
        let serial = SLOWLOG_USERS.lock().unwrap_or_else(|e| e.into_inner());
        let mut con = raw();
        let before: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("slowlog-log-slower-than")
            .query(&mut con)
            .expect("CONFIG GET");
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("slowlog-log-slower-than")
            .arg(SLOW_US)
            .query::<()>(&mut con)
            .expect("CONFIG SET");
        redis::cmd("SLOWLOG")
            .arg("RESET")
            .query::<()>(&mut con)
            .expect("SLOWLOG RESET");
        SlowLog {
            before: before.get(1).cloned().unwrap_or_else(|| "10000".into()),
            _serial: serial,
        }
    }

    /// Slow commands of ours touching `prefix`: writes, and reads whose
    /// own cost is over the threshold.
    fn ours(&self, prefix: &str) -> Vec<(u64, Vec<String>)> {
        let mut ours = slow_entries(prefix);
        // The slow log times wall clock: on a loaded machine the OS can
        // stall Redis in the middle of any command. A read of ours that
        // was slow is timed again (three times, the fastest counts): a
        // cost of its own shows again, a stall does not.
        ours.retain(|(_, words)| {
            let read = matches!(words[0].to_ascii_uppercase().as_str(), "LRANGE" | "LLEN");
            !read || retimed_us(words) > SLOW_US
        });
        ours
    }
}

/// The fastest of three runs of a read-only command, in µs, as the slow log
/// times it.
fn retimed_us(words: &[String]) -> u64 {
    let mut con = raw();
    let config = |value: u64, con: &mut redis::Connection| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("slowlog-log-slower-than")
            .arg(value)
            .query::<()>(con)
            .expect("CONFIG SET");
    };
    let mut fastest = u64::MAX;
    for _ in 0..3 {
        config(0, &mut con);
        redis::cmd("SLOWLOG")
            .arg("RESET")
            .query::<()>(&mut con)
            .unwrap();
        let mut cmd = redis::cmd(&words[0]);
        for w in &words[1..] {
            cmd.arg(w);
        }
        cmd.query::<redis::Value>(&mut con)
            .expect("re-running a read");
        config(SLOW_US, &mut con);
        let timed = slow_entries(&words[1])
            .into_iter()
            .filter(|(_, w)| w == words)
            .map(|(us, _)| us)
            .min()
            .unwrap_or(0);
        fastest = fastest.min(timed);
    }
    fastest
}

/// Slow-log entries (duration µs, command words) that touch `prefix`, other
/// than the test's own set-up (`RPUSH`), reads and clean-up.
fn slow_entries(prefix: &str) -> Vec<(u64, Vec<String>)> {
    {
        let entries: Vec<redis::Value> = redis::cmd("SLOWLOG")
            .arg("GET")
            .arg(-1)
            .query(&mut raw())
            .expect("SLOWLOG GET");
        let mut ours = Vec::new();
        for entry in entries {
            let redis::Value::Array(fields) = entry else {
                continue;
            };
            let micros = match fields.get(2) {
                Some(redis::Value::Int(us)) => *us as u64,
                _ => 0,
            };
            let words: Vec<String> = match fields.get(3) {
                Some(redis::Value::Array(args)) => args
                    .iter()
                    .map(|a| match a {
                        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                        other => format!("{other:?}"),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let command = words.first().map(|w| w.to_ascii_uppercase());
            // The test's own reads page with indices from the head; the
            // sink's from the tail (negative).
            let test_read = command.as_deref() == Some("LRANGE")
                && words.get(2).is_some_and(|w| !w.starts_with('-'));
            if words.iter().any(|w| w.contains(prefix))
                && !test_read
                && !matches!(command.as_deref(), Some("RPUSH" | "UNLINK" | "KEYS"))
            {
                ours.push((micros, words));
            }
        }
        ours
    }
}

impl Drop for SlowLog {
    fn drop(&mut self) {
        let _: Result<(), _> = redis::cmd("CONFIG")
            .arg("SET")
            .arg("slowlog-log-slower-than")
            .arg(&self.before)
            .query(&mut raw());
    }
}

fn entries(tag: &str, n: usize, keys: impl Fn(usize) -> Vec<String>) -> Vec<IndexedEntry> {
    (0..n)
        .map(|i| IndexedEntry {
            uuid: uuid(tag, i),
            keys: keys(i),
        })
        .collect()
}

/// Asserts each of `uuids` is in `list` exactly once and nothing is listed
/// twice.
fn assert_exactly_once(list: &HashMap<String, usize>, uuids: &[String], key: &str) {
    for u in uuids {
        assert_eq!(list.get(u), Some(&1), "{u} in {key}");
    }
    let twice: Vec<_> = list.iter().filter(|(_, &n)| n > 1).take(3).collect();
    assert!(twice.is_empty(), "duplicates in {key}: {twice:?}");
}

#[test]
fn a_million_element_list_is_merged_exactly_once_without_slow_commands() {
    const LISTED: usize = 1_000_000;
    const WRITTEN: usize = 2_000;
    const ALREADY: usize = 300; // of the written UUIDs, listed by "the server"
    let p = Prefix::new("million");
    let (hot, warm, short) = (p.key("hot"), p.key("warm"), p.key("short"));
    // What the server's own index of a big log looks like: the hot list
    // holds 10^6 entries, among them (at its tail: listed long ago) some
    // of the entries this run writes.
    fill(&hot, "server", LISTED - ALREADY);
    fill(&hot, "ours", ALREADY);
    fill(&warm, "server", 5_000);
    let slowlog = SlowLog::arm();

    // Keys as the tool passes them (mixed case; the sink lowercases).
    let batch = entries("ours", WRITTEN, |i| {
        let mut keys = vec![hot.to_uppercase(), p.key(&format!("unique-{i}"))];
        if i % 2 == 0 {
            keys.push(warm.clone());
        }
        if i % 100 == 0 {
            keys.push(short.clone());
        }
        keys
    });
    run(&backend(LongLists::default()), &batch, 3);

    let slow = slowlog.ours(&p.0);
    assert!(
        slow.is_empty(),
        "commands of ours over {SLOW_US} µs: {:?}",
        slow.iter()
            .map(|(us, w)| (us, w.iter().take(3).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    );
    let ours: Vec<String> = batch.iter().map(|e| e.uuid.clone()).collect();
    let hot_list = contents(&hot);
    assert_eq!(hot_list.len(), LISTED - ALREADY + WRITTEN);
    assert_eq!(llen(&hot), LISTED - ALREADY + WRITTEN, "no duplicates");
    assert_exactly_once(&hot_list, &ours, &hot);
    assert_eq!(
        hot_list.get(&uuid("server", 0)),
        Some(&1),
        "merged, not replaced"
    );
    let evens: Vec<String> = ours.iter().step_by(2).cloned().collect();
    assert_exactly_once(&contents(&warm), &evens, &warm);
    assert_eq!(llen(&warm), 5_000 + WRITTEN / 2);
    assert_eq!(llen(&short), WRITTEN / 100);
    assert_eq!(llen(&p.key("unique-7")), 1);

    // A rerun (a new run: it reads the lists again) changes nothing.
    run(&backend(LongLists::default()), &batch, 2);
    assert_eq!(contents(&hot), hot_list);
    assert_eq!(llen(&warm), 5_000 + WRITTEN / 2);
    assert_eq!(llen(&short), WRITTEN / 100);
    let slow = slowlog.ours(&p.0);
    assert!(slow.is_empty(), "rerun: slow commands {slow:?}");
}

#[test]
fn a_list_that_grows_long_during_the_run_keeps_each_uuid_once() {
    let p = Prefix::new("grows");
    let key = p.key("signer");
    let batch = entries("grow", 3_000, |_| vec![key.clone()]);
    let lists = LongLists::default();
    let backend = backend(lists.clone());
    // One run: the first part on short-list writes, the rest after the
    // list turned long.
    run(&backend, &batch[..1_500], 2);
    run(&backend, &batch[1_500..], 3);
    assert!(lists.fingerprints() > 0, "the list was read as a long one");
    let ours: Vec<String> = batch.iter().map(|e| e.uuid.clone()).collect();
    let list = contents(&key);
    assert_eq!(list.len(), 3_000);
    assert_exactly_once(&list, &ours, &key);
    run(&self::backend(LongLists::default()), &batch, 2);
    assert_eq!(contents(&key), list, "a rerun changes nothing");
}

#[test]
fn pushes_by_the_server_during_the_run_are_kept() {
    let p = Prefix::new("server");
    let key = p.key("identity");
    fill(&key, "server", 2_000);
    let backend = backend(LongLists::default());
    let batch = entries("run", 400, |_| vec![key.clone()]);
    let mut sink = backend.connect_sink().unwrap();
    let mut con = raw();
    for (n, chunk) in batch.chunks(10).enumerate() {
        sink.write(chunk).unwrap();
        // The server accepts new entries meanwhile and lists them.
        redis::cmd("LPUSH")
            .arg(&key)
            .arg(uuid("new", n))
            .query::<()>(&mut con)
            .unwrap();
    }
    let list = contents(&key);
    assert_eq!(list.len(), 2_000 + 400 + 40);
    assert_eq!(llen(&key), 2_440);
    let ours: Vec<String> = batch.iter().map(|e| e.uuid.clone()).collect();
    assert_exactly_once(&list, &ours, &key);
    assert_eq!(list.get(&uuid("new", 39)), Some(&1));
}

#[test]
fn a_list_beyond_the_memory_budget_is_checked_page_by_page() {
    let p = Prefix::new("budget");
    let key = p.key("pgp");
    fill(&key, "ours", 50); // some of this run's UUIDs are there already
    fill(&key, "server", 6_000);
    let slowlog = SlowLog::arm();
    // Room for fewer fingerprints than the list holds.
    let lists = LongLists::with_budget(1_000);
    let batch = entries("ours", 500, |_| vec![key.clone()]);
    run(&backend(lists.clone()), &batch, 2);
    assert_eq!(lists.fingerprints(), 0, "nothing held in memory");
    let ours: Vec<String> = batch.iter().map(|e| e.uuid.clone()).collect();
    let list = contents(&key);
    assert_eq!(list.len(), 6_500);
    assert_exactly_once(&list, &ours, &key);
    run(&backend(LongLists::with_budget(1_000)), &batch, 2);
    assert_eq!(contents(&key), list, "a rerun changes nothing");
    let slow = slowlog.ours(&p.0);
    assert!(slow.is_empty(), "slow commands: {slow:?}");
}

/// The tool's own run over a log with the realistic key mix
/// (`replay-rekor`'s `--key-mix`), onto an index whose hot key already
/// lists other entries and some of the run's: each entry listed once under
/// its keys, and a rerun over the range (`--reset-checkpoint`) changes
/// nothing. Other tests write the same keys (the corpus signers), so only
/// UUIDs under this test's own tree ID are looked at.
#[test]
fn the_tool_merges_a_hot_index_exactly_once() {
    use replay_rekor::{load_corpus, KeyMix, Log, ReplayServer};
    use std::path::PathBuf;
    use std::process::Command;

    const SIZE: u64 = 2_000;
    let corpus = load_corpus(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus/entries.jsonl"),
    )
    .expect("corpus");
    let tree_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1 << 60;
    let mix = KeyMix::from_corpus(&corpus).expect("key mix");
    let log = Log::new(corpus)
        .with_key_mix(mix)
        .with_tree_id(tree_id)
        .with_size(SIZE);
    let server = ReplayServer::start(log).expect("replay server");
    let ours = format!("{tree_id:016x}");
    let hot = "lhinds@protonmail.com"; // the 25% signer's e-mail
    let checkpoint = format!("hotkeys-{tree_id}");

    // The server's index already lists other entries of this log under the
    // hot key (1,500 of them, beyond the range), and 40 of the range.
    let mut con = raw();
    let listed: Vec<String> = (0..1_500)
        .map(|i| format!("{ours}{:064x}", 1_000_000 + i))
        .chain((0..40).map(|i| server.served(i).expect("served").uuid))
        .collect();
    redis::cmd("RPUSH")
        .arg(hot)
        .arg(&listed)
        .query::<()>(&mut con)
        .unwrap();

    let run = |extra: &[&str]| {
        let address = env("REKOR_BACKFILL_TEST_REDIS");
        let (host, port) = address.rsplit_once(':').unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_rekor-backfill"))
            .args(["--rekor-address", &server.url(), "--start", "0"])
            .args(["--end", &(SIZE - 1).to_string(), "--concurrency", "4"])
            .args(["--redis-hostname", host, "--redis-port", port])
            .args(["--checkpoint-key", &checkpoint])
            .args(extra)
            .env("REDIS_PASSWORD", env("REKOR_BACKFILL_TEST_REDIS_PASSWORD"))
            .output()
            .expect("running rekor-backfill");
        assert!(
            out.status.success(),
            "rekor-backfill failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mine = |key: &str| -> HashMap<String, usize> {
        contents(key)
            .into_iter()
            .filter(|(u, _)| u.starts_with(&ours))
            .collect()
    };
    run(&[]);
    let first = mine(hot);
    let twice: Vec<_> = first.iter().filter(|(_, &n)| n != 1).collect();
    assert!(twice.is_empty(), "listed twice: {twice:?}");
    let from_run = first.len() - 1_500;
    // A quarter of the range, give or take.
    assert!(
        (400..600).contains(&from_run),
        "{from_run} of {SIZE} entries under the hot key"
    );
    // Every entry's artifact key lists it once.
    let artifact = |i: u64| {
        let body = server.served(i).unwrap().body_b64;
        let body: serde_json::Value =
            serde_json::from_slice(&base64_decode(&body)).expect("JSON body");
        format!(
            "sha256:{}",
            body["spec"]["data"]["hash"]["value"].as_str().unwrap()
        )
    };
    for i in [0, 1, 999, SIZE - 1] {
        let list = mine(&artifact(i));
        assert_eq!(list.len(), 1, "index {i}");
        assert_eq!(list.get(&server.served(i).unwrap().uuid), Some(&1));
    }

    run(&["--reset-checkpoint"]);
    assert_eq!(mine(hot), first, "a rerun changes nothing");

    // Clean up: this log's UUIDs from every key its entries have (the
    // tool's `keys` command says which), and the checkpoint.
    let bodies: String = (0..SIZE)
        .map(|i| format!("{{\"body\":\"{}\"}}\n", server.served(i).unwrap().body_b64))
        .collect();
    let mut keys_cmd = Command::new(env!("CARGO_BIN_EXE_rekor-backfill"))
        .arg("keys")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("rekor-backfill keys");
    let mut stdin = keys_cmd.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write as _;
        stdin.write_all(bodies.as_bytes())
    });
    let out = keys_cmd.wait_with_output().expect("rekor-backfill keys");
    writer.join().unwrap().expect("writing bodies");
    let mut pipeline = redis::pipe();
    for uuid in &listed {
        pipeline.cmd("LREM").arg(hot).arg(0).arg(uuid).ignore();
    }
    // One output line per body, in order.
    for (i, line) in String::from_utf8_lossy(&out.stdout).lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).expect("keys output");
        let uuid = server.served(i as u64).unwrap().uuid;
        for key in v["keys"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or_default().to_lowercase();
            pipeline.cmd("LREM").arg(key).arg(0).arg(&uuid).ignore();
        }
    }
    pipeline
        .cmd("DEL")
        .arg(format!("rekor-backfill:checkpoint:{checkpoint}"))
        .ignore();
    let _: Result<(), _> = pipeline.query(&mut con);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}
