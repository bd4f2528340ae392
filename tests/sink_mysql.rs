//! The MySQL backend against a real MariaDB: run `harness/services.sh start`
//! and `eval "$(harness/services.sh env)"` first. Every test uses its own key
//! prefix and checkpoint names, so the tests run in parallel, and deletes its
//! rows at the end.

use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};
use rekor_backfill::checkpoint::{CheckpointName, CheckpointRecord};
use rekor_backfill::log_layout::LogLayout;
use rekor_backfill::redact::Secret;
use rekor_backfill::sink::{Backend, IndexedEntry, MysqlAddress, MysqlBackend, MysqlDsn};

use crate::util::{entry, free_port};

fn dsn() -> MysqlDsn {
    let text = std::env::var("REKOR_BACKFILL_TEST_MYSQL_DSN").unwrap_or_else(|_| {
        panic!(
            "REKOR_BACKFILL_TEST_MYSQL_DSN is not set: run `harness/services.sh start` and \
             `eval \"$(harness/services.sh env)\"` before `cargo test`"
        )
    });
    MysqlDsn::parse(&text).unwrap()
}

fn backend() -> MysqlBackend {
    MysqlBackend::new(dsn())
}

/// A direct connection (session in UTC) for reading back what was written.
fn try_raw(database: &str) -> mysql::Result<Conn> {
    let dsn = dsn();
    let MysqlAddress::Tcp { host, port } = dsn.address else {
        panic!("the test DSN must use tcp")
    };
    Conn::new(
        OptsBuilder::new()
            .ip_or_hostname(Some(host))
            .tcp_port(port)
            .user(Some(dsn.user))
            .pass(Some(dsn.password.expose()))
            .db_name(Some(database))
            .prefer_socket(false)
            .init(vec!["SET time_zone = '+00:00'"]),
    )
}

fn raw() -> Conn {
    try_raw(&dsn().database).expect("connecting to the harness MariaDB")
}

fn unique(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("rbtest-{}-{nanos}-{test}", std::process::id())
}

/// A key prefix (also used for checkpoint names) no other test uses; its
/// rows are deleted when the guard drops, also after a failed assertion.
struct Prefix(String);

impl Prefix {
    fn new(test: &str) -> Prefix {
        dsn(); // fail here, not in drop, when the harness is not set up
        Prefix(format!("{}:", unique(test)))
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.0)
    }

    fn checkpoint(&self, suffix: &str) -> CheckpointName {
        CheckpointName::parse(&self.key(suffix)).unwrap()
    }

    /// (EntryKey, EntryUUID) rows under the prefix, in key order.
    fn rows(&self) -> Vec<(String, String)> {
        raw()
            .exec(
                "SELECT EntryKey, EntryUUID FROM EntryIndex WHERE EntryKey LIKE ? \
                 ORDER BY EntryKey, EntryUUID",
                (format!("{}%", self.0),),
            )
            .unwrap()
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(mut con) = try_raw(&dsn().database) else {
            return;
        };
        let like = format!("{}%", self.0);
        // Either table may not exist (yet); nothing to clean up then.
        let _ = con.exec_drop("DELETE FROM EntryIndex WHERE EntryKey LIKE ?", (&like,));
        let _ = con.exec_drop(
            "DELETE FROM BackfillCheckpoint WHERE CheckpointKey LIKE ?",
            (&like,),
        );
    }
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(k, u)| (k.to_string(), u.to_string()))
        .collect()
}

#[test]
fn batch_is_written_and_rewriting_it_changes_nothing() {
    let p = Prefix::new("batch");
    let (a, b) = (p.key("sha256:aa"), p.key("sha256:bb"));
    let batch = [
        entry("uuid-1", &[a.clone(), b.clone(), a.clone()]),
        entry("uuid-2", std::slice::from_ref(&a)),
    ];
    let mut sink = backend().connect_sink().unwrap();
    sink.write(&batch).unwrap();
    let expected = pairs(&[(&a, "uuid-1"), (&a, "uuid-2"), (&b, "uuid-1")]);
    assert_eq!(p.rows(), expected);
    sink.write(&batch).unwrap();
    backend().connect_sink().unwrap().write(&batch).unwrap();
    assert_eq!(p.rows(), expected);
}

#[test]
fn keys_are_stored_as_computed_not_lowercased() {
    let p = Prefix::new("case");
    let mixed = p.key("https://github.com/MyOrg/Repo");
    backend()
        .connect_sink()
        .unwrap()
        .write(&[entry("u1", std::slice::from_ref(&mixed))])
        .unwrap();
    assert_eq!(p.rows(), pairs(&[(&mixed, "u1")]));
    // utf8mb4_general_ci: a case variant of a stored key is the same key,
    // so INSERT IGNORE drops it (the server behaves the same).
    let lower = mixed.to_lowercase();
    backend()
        .connect_sink()
        .unwrap()
        .write(&[
            entry("u1", std::slice::from_ref(&lower)),
            entry("u2", &[lower]),
        ])
        .unwrap();
    assert_eq!(
        p.rows(),
        pairs(&[(&mixed, "u1"), (&mixed.to_lowercase(), "u2")])
    );
}

#[test]
fn large_batch_is_split_into_several_statements() {
    let p = Prefix::new("large");
    // 5000 keys of ~300 bytes: over the row bound (1000) and the byte
    // bound (1 MiB) per statement.
    let filler = "f".repeat(280);
    let entries: Vec<IndexedEntry> = (0..100)
        .map(|e| {
            let keys: Vec<String> = (0..50)
                .map(|k| p.key(&format!("{e:03}-{k:02}-{filler}")))
                .collect();
            entry(&format!("uuid-{e:03}"), &keys)
        })
        .collect();
    let mut sink = backend().connect_sink().unwrap();
    sink.write(&entries).unwrap();
    let rows = p.rows();
    assert_eq!(rows.len(), 5000);
    let expected: Vec<(String, String)> = entries
        .iter()
        .flat_map(|e| e.keys.iter().map(|k| (k.clone(), e.uuid.clone())))
        .collect();
    assert_eq!(rows, expected); // keys sort in the order they were made
    sink.write(&entries).unwrap();
    assert_eq!(p.rows().len(), 5000);
}

#[test]
fn key_longer_than_512_characters_is_stored_truncated() {
    // Same as Rekor's own writer and the Go tool: INSERT IGNORE turns
    // "data too long" into a warning and stores the first 512 characters.
    // Two long keys that share those 512 characters become one row.
    let p = Prefix::new("long");
    let long1 = p.key(&format!("{}-one", "é".repeat(600)));
    let long2 = p.key(&format!("{}-two", "é".repeat(600)));
    let mut sink = backend().connect_sink().unwrap();
    sink.write(&[entry("u", &[long1.clone(), long2])]).unwrap();
    let rows = p.rows();
    let truncated: String = long1.chars().take(512).collect();
    assert_eq!(rows, pairs(&[(&truncated, "u")]));
    assert_eq!(rows[0].0.chars().count(), 512);
}

#[test]
fn checkpoint_round_trip_in_utc() {
    let p = Prefix::new("ckpt");
    let name = p.checkpoint("rt");
    let mut store = backend().connect_checkpoint_store(false).unwrap();
    assert_eq!(store.load(&name).unwrap(), None);
    let first = CheckpointRecord {
        first_index: 10,
        last_completed_index: 1_234_567,
        last_updated: humantime::parse_rfc3339("2026-11-26T03:04:05Z").unwrap(),
        // Two trees: the inactive one and the active one the range reaches.
        log: Some(
            LogLayout::new(vec![("11".to_string(), 100)], ("22".to_string(), 2_000_000))
                .binding(10..=1_234_567),
        ),
    };
    store.save(&name, &first).unwrap();
    assert_eq!(store.load(&name).unwrap(), Some(first.clone()));
    let stored: Option<(i64, i64, String)> = raw()
        .exec_first(
            "SELECT FirstIndex, LastCompletedIndex, CAST(LastUpdated AS CHAR) \
             FROM BackfillCheckpoint WHERE CheckpointKey = ?",
            (name.as_str(),),
        )
        .unwrap();
    assert_eq!(
        stored,
        Some((10, 1_234_567, "2026-11-26 03:04:05.000000".to_string()))
    );

    let second = CheckpointRecord {
        last_completed_index: 2_000_000,
        last_updated: first.last_updated + Duration::from_secs(60),
        ..first
    };
    store.save(&name, &second).unwrap();
    let fresh = backend()
        .connect_checkpoint_store(true)
        .unwrap()
        .load(&name)
        .unwrap();
    assert_eq!(fresh, Some(second));
    store.delete(&name).unwrap();
    assert_eq!(store.load(&name).unwrap(), None);
    store.delete(&name).unwrap(); // deleting nothing is fine
}

#[test]
fn checkpoint_names_are_case_sensitive() {
    let p = Prefix::new("names");
    let (upper, lower) = (p.checkpoint("Name"), p.checkpoint("name"));
    let record = |last| CheckpointRecord {
        first_index: 0,
        last_completed_index: last,
        last_updated: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        log: None,
    };
    let mut store = backend().connect_checkpoint_store(false).unwrap();
    store.save(&upper, &record(1)).unwrap();
    store.save(&lower, &record(2)).unwrap();
    assert_eq!(store.load(&upper).unwrap(), Some(record(1)));
    assert_eq!(store.load(&lower).unwrap(), Some(record(2)));
}

#[test]
fn inconsistent_stored_checkpoint_is_an_error() {
    let p = Prefix::new("bad");
    let name = p.checkpoint("c");
    backend().connect_checkpoint_store(false).unwrap(); // creates the table
    raw()
        .exec_drop(
            "INSERT INTO BackfillCheckpoint (CheckpointKey, FirstIndex, LastCompletedIndex, LastUpdated) \
             VALUES (?, 9, 3, '2026-01-01 00:00:00')",
            (name.as_str(),),
        )
        .unwrap();
    let err = backend()
        .connect_checkpoint_store(true)
        .unwrap()
        .load(&name)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("inconsistent") && err.contains(name.as_str()),
        "{err}"
    );
}

/// A throw-away database (the harness grants `test_%` to the test user),
/// dropped at the end.
struct Database(String);

impl Database {
    fn new() -> Database {
        let name = format!("test_{}", unique("ro").replace(['-', ':'], "_"));
        raw()
            .query_drop(format!("CREATE DATABASE `{name}`"))
            .unwrap();
        Database(name)
    }

    fn tables(&self) -> Vec<String> {
        raw()
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
                (&self.0,),
            )
            .unwrap()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut con) = try_raw(&dsn().database) {
            let _ = con.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.0));
        }
    }
}

#[test]
fn read_only_store_never_creates_the_table_or_writes() {
    let db = Database::new();
    let backend = MysqlBackend::new(MysqlDsn {
        database: db.0.clone(),
        ..dsn()
    });
    let name = CheckpointName::parse("default").unwrap();
    let record = CheckpointRecord {
        first_index: 0,
        last_completed_index: 5,
        last_updated: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        log: None,
    };
    let mut read_only = backend.connect_checkpoint_store(true).unwrap();
    assert_eq!(
        read_only.load(&name).unwrap(),
        None,
        "a missing table means no checkpoint"
    );
    read_only.save(&name, &record).unwrap();
    read_only.delete(&name).unwrap();
    assert!(db.tables().is_empty(), "{:?}", db.tables());

    // The writable store does create it; a read-only save or delete then
    // still changes nothing.
    let mut writable = backend.connect_checkpoint_store(false).unwrap();
    assert_eq!(db.tables(), ["BackfillCheckpoint"]);
    writable.save(&name, &record).unwrap();
    let other = CheckpointRecord {
        last_completed_index: 99,
        ..record.clone()
    };
    read_only.save(&name, &other).unwrap();
    read_only.delete(&name).unwrap();
    assert_eq!(writable.load(&name).unwrap(), Some(record));
}

#[test]
fn wrong_password_is_named_without_the_password() {
    let secret = "Wr0ng-Pa55word-xyz";
    let wrong = MysqlBackend::new(MysqlDsn {
        password: Secret::new(secret),
        ..dsn()
    });
    for err in [
        wrong
            .connect_sink()
            .err()
            .expect("wrong password must fail"),
        wrong
            .connect_checkpoint_store(true)
            .err()
            .expect("wrong password must fail"),
    ] {
        let err = format!("{err:#}");
        assert!(
            err.contains(&format!("{}: connect failed: ERROR 1045", wrong.describe())),
            "{err}"
        );
        assert!(err.contains("Access denied"), "{err}");
        assert!(!err.contains(secret), "{err}");
    }
}

#[test]
fn nothing_listening_is_a_quick_error() {
    let port = free_port();
    let dead = MysqlBackend::new(MysqlDsn {
        address: MysqlAddress::Tcp {
            host: "127.0.0.1".to_string(),
            port,
        },
        ..dsn()
    });
    let started = Instant::now();
    let err = format!("{:#}", dead.connect_sink().err().expect("no server"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("connect failed"),
        "{err}"
    );
}

#[test]
fn silent_server_times_out_instead_of_hanging() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _accepted = std::thread::spawn(move || listener.incoming().take(1).collect::<Vec<_>>());
    let text = format!("u:p@tcp(127.0.0.1:{port})/db?timeout=1s&readTimeout=2s&writeTimeout=2s");
    let silent = MysqlBackend::new(MysqlDsn::parse(&text).unwrap());
    let started = Instant::now();
    let err = format!("{:#}", silent.connect_sink().err().expect("silent server"));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(err.contains("connect failed: no answer within 2s"), "{err}");
}

#[test]
fn tls_required_against_a_server_without_tls_is_a_clear_error() {
    // The harness MariaDB has no certificate, so it offers no TLS.
    for tls in ["true", "skip-verify"] {
        let mut with_tls = dsn();
        with_tls.tls = MysqlDsn::parse(&format!("/x?tls={tls}")).unwrap().tls;
        let err = format!(
            "{:#}",
            MysqlBackend::new(with_tls)
                .connect_sink()
                .err()
                .expect("no TLS")
        );
        assert!(err.contains("secure connection"), "{err}");
    }
    // tls=preferred falls back to plain TCP.
    let mut preferred = dsn();
    preferred.tls = MysqlDsn::parse("/x?tls=preferred").unwrap().tls;
    let p = Prefix::new("preferred");
    MysqlBackend::new(preferred)
        .connect_sink()
        .unwrap()
        .write(&[entry("u", &[p.key("k")])])
        .unwrap();
    assert_eq!(p.rows().len(), 1);
}

#[test]
fn killed_connection_is_replaced_and_the_batch_retried() {
    // As when the server restarts between two batches of a worker.
    let db = Database::new();
    let backend = MysqlBackend::new(MysqlDsn {
        database: db.0.clone(),
        ..dsn()
    });
    let mut sink = backend.connect_sink().unwrap();
    sink.write(&[entry("u1", &["k1".to_string()])]).unwrap();
    let ids: Vec<u64> = raw()
        .exec(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ?",
            (&db.0,),
        )
        .unwrap();
    assert_eq!(ids.len(), 1, "the sink's connection");
    raw().query_drop(format!("KILL {}", ids[0])).unwrap();
    sink.write(&[entry("u2", &["k2".to_string()])]).unwrap();
    let rows: Vec<(String, String)> = raw()
        .query(format!(
            "SELECT EntryKey, EntryUUID FROM `{}`.EntryIndex ORDER BY EntryKey",
            db.0
        ))
        .unwrap();
    assert_eq!(rows, pairs(&[("k1", "u1"), ("k2", "u2")]));
}

/// A checkpoint table of an earlier version (no `LogShards`, `LastUpdated`
/// a TIMESTAMP): a dry run reads it as it is, a writing run adds the column,
/// makes `LastUpdated` a DATETIME(6) in UTC and keeps the rows.
#[test]
fn older_checkpoint_table_is_read_then_upgraded() {
    let db = Database::new();
    let backend = MysqlBackend::new(MysqlDsn {
        database: db.0.clone(),
        ..dsn()
    });
    let mut conn = try_raw(&db.0).unwrap();
    conn.query_drop(
        "CREATE TABLE BackfillCheckpoint (
            CheckpointKey VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            FirstIndex BIGINT, LastCompletedIndex BIGINT NOT NULL, LastUpdated TIMESTAMP NOT NULL)",
    )
    .unwrap();
    conn.query_drop(
        "INSERT INTO BackfillCheckpoint VALUES ('default', 0, 41, FROM_UNIXTIME(1800000000))",
    )
    .unwrap();
    let name = CheckpointName::parse("default").unwrap();
    let old = CheckpointRecord {
        first_index: 0,
        last_completed_index: 41,
        last_updated: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        log: None,
    };
    let mut read_only = backend.connect_checkpoint_store(true).unwrap();
    assert_eq!(read_only.load(&name).unwrap(), Some(old.clone()));
    let columns = |conn: &mut Conn| -> Vec<String> {
        conn.exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'BackfillCheckpoint' ORDER BY ORDINAL_POSITION",
            (&db.0,),
        )
        .unwrap()
    };
    assert_eq!(columns(&mut conn).len(), 4, "a dry run altered the table");

    let mut writable = backend.connect_checkpoint_store(false).unwrap();
    assert_eq!(
        columns(&mut conn).last().map(String::as_str),
        Some("LogShards")
    );
    let last_updated = |conn: &mut Conn| -> Option<(String, Option<u32>)> {
        conn.exec_first(
            "SELECT DATA_TYPE, DATETIME_PRECISION FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'BackfillCheckpoint' AND COLUMN_NAME = 'LastUpdated'",
            (&db.0,),
        )
        .unwrap()
    };
    assert_eq!(
        last_updated(&mut conn),
        Some(("datetime".to_string(), Some(6)))
    );
    // The TIMESTAMP's instant, now spelt in UTC (1800000000 = 2027-01-15T08:00:00Z).
    let utc: Option<String> = conn
        .query_first("SELECT CAST(LastUpdated AS CHAR) FROM BackfillCheckpoint")
        .unwrap();
    assert_eq!(utc.as_deref(), Some("2027-01-15 08:00:00.000000"));
    assert_eq!(writable.load(&name).unwrap(), Some(old.clone()));
    let bound = CheckpointRecord {
        log: Some(LogLayout::new(vec![], ("7".to_string(), 100)).binding(0..=41)),
        ..old
    };
    writable.save(&name, &bound).unwrap();
    assert_eq!(read_only.load(&name).unwrap(), Some(bound));
    // A second writable connection finds the table migrated and leaves it.
    backend.connect_checkpoint_store(false).unwrap();
    assert_eq!(
        last_updated(&mut conn),
        Some(("datetime".to_string(), Some(6)))
    );
    assert_eq!(
        read_only.load(&name).unwrap().map(|r| r.last_updated),
        Some(old.last_updated)
    );
}
