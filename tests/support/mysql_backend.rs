//! The MySQL adapter: Rekor's `EntryIndex(EntryKey, EntryUUID)` table and
//! the tool's `BackfillCheckpoint` table, in the database of the DSN.

use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};

use std::collections::BTreeMap;

use super::backend::{Checkpoint, IndexBackend, Snapshot, StoredFailure};
use super::private::{PrivateMariaDb, PrivateService};
use super::require_env;

/// MySQL's "table doesn't exist": the tool has not created it (yet).
const ER_NO_SUCH_TABLE: u16 = 1146;

#[derive(Clone, Debug)]
pub struct MysqlBackend {
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    /// Everything after `?` in the Go DSN.
    pub params: String,
}

impl MysqlBackend {
    /// Parses the Go form `user:pass@tcp(host:port)/db?params`.
    pub fn parse_dsn(dsn: &str) -> MysqlBackend {
        fn bad<T>(dsn: &str) -> T {
            panic!("test DSN must look like user:pass@tcp(host:port)/db?params, got {dsn:?}")
        }
        let (credentials, rest) = dsn.rsplit_once("@tcp(").unwrap_or_else(|| bad(dsn));
        let (user, password) = credentials.split_once(':').unwrap_or_else(|| bad(dsn));
        let (address, rest) = rest.split_once(")/").unwrap_or_else(|| bad(dsn));
        let (host, port) = address.rsplit_once(':').unwrap_or_else(|| bad(dsn));
        let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
        MysqlBackend {
            user: user.to_string(),
            password: password.to_string(),
            host: host.to_string(),
            port: port.parse().unwrap_or_else(|_| bad(dsn)),
            database: database.to_string(),
            params: params.to_string(),
        }
    }

    pub fn dsn(&self) -> String {
        let mut dsn = format!(
            "{}:{}@tcp({}:{})/{}",
            self.user, self.password, self.host, self.port, self.database
        );
        if !self.params.is_empty() {
            dsn.push('?');
            dsn.push_str(&self.params);
        }
        dsn
    }

    /// The same server, another database.
    pub fn in_database(&self, database: &str) -> MysqlBackend {
        MysqlBackend {
            database: database.to_string(),
            ..self.clone()
        }
    }

    pub fn connection(&self) -> Conn {
        let opts = OptsBuilder::new()
            .ip_or_hostname(Some(self.host.clone()))
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(Some(self.password.clone()))
            .db_name(Some(self.database.clone()));
        Conn::new(opts).unwrap_or_else(|e| {
            panic!(
                "test harness: connecting to MySQL {}:{} db {}: {e}",
                self.host, self.port, self.database
            )
        })
    }

    /// Tables of the database.
    pub fn tables(&self) -> Vec<String> {
        self.connection().query("SHOW TABLES").expect("SHOW TABLES")
    }

    /// Creates (or empties) a database of this server; the test user may
    /// create `test_*` databases.
    pub fn fresh_database(&self, database: &str) -> MysqlBackend {
        let mut conn = self.connection();
        conn.query_drop(format!("DROP DATABASE IF EXISTS `{database}`"))
            .and_then(|()| conn.query_drop(format!("CREATE DATABASE `{database}`")))
            .unwrap_or_else(|e| {
                panic!("test harness: creating database {database} (the test user needs GRANT ALL ON `test\\_%`.*): {e}")
            });
        self.in_database(database)
    }

    pub fn drop_database(&self) {
        let _ = self
            .connection()
            .query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.database));
    }
}

/// `LogIndex, EntryUUID, Kind, Error, Attempts` of `BackfillFailedEntry`.
type FailureRow = (u64, String, String, String, u64);

fn missing_table(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if m.code == ER_NO_SUCH_TABLE)
}

impl IndexBackend for MysqlBackend {
    const NAME: &'static str = "mysql";

    fn from_env() -> MysqlBackend {
        MysqlBackend::parse_dsn(&require_env(
            "REKOR_BACKFILL_TEST_MYSQL_DSN",
            "test:zaphod@tcp(127.0.0.1:13306)/test?parseTime=true",
        ))
    }

    fn tool_args(&self) -> Vec<String> {
        vec!["--mysql-dsn".into(), self.dsn()]
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.password.clone()]
    }

    fn with_wrong_password(&self, password: &str) -> Vec<String> {
        MysqlBackend {
            password: password.to_string(),
            ..self.clone()
        }
        .tool_args()
    }

    fn stored_key(&self, key: &str) -> String {
        key.to_string()
    }

    fn snapshot(&self, prefixes: &[String]) -> Snapshot {
        let mut conn = self.connection();
        let mut pairs = Vec::new();
        for prefix in prefixes {
            let rows: Result<Vec<(String, String)>, _> = conn.exec(
                "SELECT EntryKey, EntryUUID FROM EntryIndex WHERE EntryUUID LIKE ?",
                (format!("{prefix}%"),),
            );
            match rows {
                Ok(rows) => pairs.extend(rows),
                Err(e) if missing_table(&e) => {}
                Err(e) => panic!("reading EntryIndex: {e}"),
            }
        }
        Snapshot::from_pairs(pairs)
    }

    fn remove(&self, key: &str, uuid: &str) {
        self.connection()
            .exec_drop(
                "DELETE FROM EntryIndex WHERE EntryKey = ? AND EntryUUID = ?",
                (key, uuid),
            )
            .expect("DELETE FROM EntryIndex");
    }

    fn purge(&self, prefixes: &[String]) {
        let mut conn = self.connection();
        for prefix in prefixes {
            match conn.exec_drop(
                "DELETE FROM EntryIndex WHERE EntryUUID LIKE ?",
                (format!("{prefix}%"),),
            ) {
                Ok(()) => {}
                Err(e) if missing_table(&e) => {}
                Err(e) => panic!("purging EntryIndex: {e}"),
            }
        }
    }

    fn launch_private() -> (Box<dyn PrivateService>, MysqlBackend) {
        let db = PrivateMariaDb::launch();
        let backend = db.backend.clone();
        (Box::new(db), backend)
    }

    fn checkpoint(&self, name: &str) -> Option<Checkpoint> {
        let row: Result<Option<(Option<u64>, u64)>, _> = self.connection().exec_first(
            "SELECT FirstIndex, LastCompletedIndex FROM BackfillCheckpoint WHERE CheckpointKey = ?",
            (name,),
        );
        match row {
            Ok(row) => row.map(|(first, last)| Checkpoint {
                first_index: first.expect("FirstIndex is set by rekor-backfill"),
                last_completed_index: last,
            }),
            Err(e) if missing_table(&e) => None,
            Err(e) => panic!("reading BackfillCheckpoint: {e}"),
        }
    }

    fn failures(&self, name: &str) -> BTreeMap<u64, StoredFailure> {
        let rows: Result<Vec<FailureRow>, _> = self.connection().exec(
            "SELECT LogIndex, EntryUUID, Kind, Error, Attempts FROM BackfillFailedEntry \
             WHERE CheckpointKey = ? AND LastSeen >= FirstSeen",
            (name,),
        );
        match rows {
            Ok(rows) => rows
                .into_iter()
                .map(|(index, uuid, kind, error, attempts)| {
                    let failure = StoredFailure {
                        uuid,
                        kind,
                        error,
                        attempts,
                    };
                    (index, failure)
                })
                .collect(),
            Err(e) if missing_table(&e) => BTreeMap::new(),
            Err(e) => panic!("reading BackfillFailedEntry: {e}"),
        }
    }

    fn delete_failures(&self, name: &str) {
        match self.connection().exec_drop(
            "DELETE FROM BackfillFailedEntry WHERE CheckpointKey = ?",
            (name,),
        ) {
            Ok(()) => {}
            Err(e) if missing_table(&e) => {}
            Err(e) => panic!("deleting failure records: {e}"),
        }
    }

    fn delete_checkpoint(&self, name: &str) {
        match self.connection().exec_drop(
            "DELETE FROM BackfillCheckpoint WHERE CheckpointKey = ?",
            (name,),
        ) {
            Ok(()) => {}
            Err(e) if missing_table(&e) => {}
            Err(e) => panic!("deleting the checkpoint: {e}"),
        }
    }
}
