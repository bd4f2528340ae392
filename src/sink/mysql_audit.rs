//! The MySQL side of `rekor-backfill audit`: which (key, UUID) pairs
//! `EntryIndex` holds, read without writing.
//!
//! Pairs are looked up [`PAIRS_PER_QUERY`] at a time: a derived table of
//! the batch (each pair numbered, cast to the column's character set and
//! collation) joined with `EntryIndex` on its primary key, returning the
//! numbers found. So the server compares exactly as it does for a search
//! (`utf8mb4_general_ci`: case and trailing spaces ignored, so there is no
//! mis-cased pair on MySQL), a key over 512 characters is cut as `INSERT
//! IGNORE` cut it, and the cost is one index lookup per pair. A missing
//! `EntryIndex` table is an empty index: every pair is missing.

use anyhow::anyhow;
use mysql::prelude::Queryable;
use mysql::{Conn, Value};

use super::mysql::MysqlBackend;
use super::Backend as _;
use crate::audit::{IndexReader, Presence};

/// Pairs per query (two placeholders each).
const PAIRS_PER_QUERY: usize = 500;
/// MySQL error: the table does not exist.
const ER_NO_SUCH_TABLE: u16 = 1146;

pub struct MysqlIndexReader {
    backend: MysqlBackend,
    conn: Conn,
}

impl MysqlIndexReader {
    pub fn connect(backend: &MysqlBackend) -> anyhow::Result<MysqlIndexReader> {
        Ok(MysqlIndexReader {
            conn: backend.connect()?,
            backend: backend.clone(),
        })
    }

    /// The numbers (positions in `batch`) of the pairs present.
    fn found(&mut self, batch: &[(String, String)]) -> Result<Vec<usize>, mysql::Error> {
        let select = "SELECT {i} AS i, \
             CAST(? AS CHAR(512) CHARACTER SET utf8mb4) COLLATE utf8mb4_general_ci AS k, \
             CAST(? AS CHAR(80) CHARACTER SET ascii) COLLATE ascii_bin AS u";
        let rows: Vec<String> = (0..batch.len())
            .map(|i| select.replace("{i}", &i.to_string()))
            .collect();
        let query = format!(
            "SELECT DISTINCT t.i FROM ({}) AS t \
             JOIN EntryIndex e ON e.EntryKey = t.k AND e.EntryUUID = t.u",
            rows.join(" UNION ALL ")
        );
        let params: Vec<Value> = batch
            .iter()
            .flat_map(|(k, u)| [Value::from(k.as_str()), Value::from(u.as_str())])
            .collect();
        self.conn.exec(query, params)
    }
}

impl IndexReader for MysqlIndexReader {
    fn describe(&self) -> String {
        self.backend.describe()
    }

    fn stored_key(&self, key: &str) -> String {
        key.to_string()
    }

    fn locate(&mut self, pairs: &[(String, String)]) -> anyhow::Result<Vec<Presence>> {
        let mut out = vec![Presence::Missing; pairs.len()];
        for (n, batch) in pairs.chunks(PAIRS_PER_QUERY).enumerate() {
            let found = match self.found(batch) {
                Ok(found) => found,
                Err(mysql::Error::MySqlError(e)) if e.code == ER_NO_SUCH_TABLE => {
                    log::warn!("{}: there is no EntryIndex table", self.describe());
                    return Ok(out);
                }
                Err(e) => {
                    return Err(anyhow!(
                        "{}: looking up index pairs: {}",
                        self.describe(),
                        self.backend.explain(&e)
                    ))
                }
            };
            for i in found {
                if let Some(slot) = out.get_mut(n * PAIRS_PER_QUERY + i) {
                    *slot = Presence::Present;
                }
            }
        }
        Ok(out)
    }
}
