//! The Redis adapter: index lists `key -> [uuid...]` in DB 0, checkpoint
//! under `rekor-backfill:checkpoint:<name>`.

use redis::Commands;

use std::collections::BTreeMap;

use super::backend::{Checkpoint, IndexBackend, Snapshot, StoredFailure};
use super::private::{PrivateRedis, PrivateService};
use super::require_env;

const CHECKPOINT_PREFIX: &str = "rekor-backfill:checkpoint:";
const FAILED_PREFIX: &str = "rekor-backfill:failed:";

#[derive(Clone, Debug)]
pub struct RedisBackend {
    pub host: String,
    pub port: u16,
    pub password: String,
}

impl RedisBackend {
    pub fn connection(&self) -> redis::Connection {
        let url = format!("redis://:{}@{}:{}/0", self.password, self.host, self.port);
        redis::Client::open(url)
            .and_then(|c| c.get_connection())
            .unwrap_or_else(|e| {
                panic!(
                    "test harness: connecting to Redis {}:{}: {e}",
                    self.host, self.port
                )
            })
    }

    /// Every index key (checkpoints excluded).
    fn index_keys(&self, conn: &mut redis::Connection) -> Vec<String> {
        let keys: Result<Vec<String>, _> = conn.scan::<String>().expect("SCAN").collect();
        let mut keys = keys.expect("SCAN");
        keys.retain(|k| !k.starts_with(CHECKPOINT_PREFIX) && !k.starts_with(FAILED_PREFIX));
        keys
    }
}

impl IndexBackend for RedisBackend {
    const NAME: &'static str = "redis";

    fn from_env() -> RedisBackend {
        let address = require_env("REKOR_BACKFILL_TEST_REDIS", "127.0.0.1:16379");
        let password = require_env("REKOR_BACKFILL_TEST_REDIS_PASSWORD", "test");
        let (host, port) = address.rsplit_once(':').unwrap_or_else(|| {
            panic!("REKOR_BACKFILL_TEST_REDIS must be host:port, got {address:?}")
        });
        RedisBackend {
            host: host.to_string(),
            port: port
                .parse()
                .unwrap_or_else(|_| panic!("REKOR_BACKFILL_TEST_REDIS: bad port in {address:?}")),
            password,
        }
    }

    fn tool_args(&self) -> Vec<String> {
        vec![
            "--redis-hostname".into(),
            self.host.clone(),
            "--redis-port".into(),
            self.port.to_string(),
            "--redis-password".into(),
            self.password.clone(),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.password.clone()]
    }

    fn with_wrong_password(&self, password: &str) -> Vec<String> {
        RedisBackend {
            password: password.to_string(),
            ..self.clone()
        }
        .tool_args()
    }

    fn stored_key(&self, key: &str) -> String {
        key.to_lowercase()
    }

    fn snapshot(&self, prefixes: &[String]) -> Snapshot {
        let mut conn = self.connection();
        let mut pairs = Vec::new();
        for key in self.index_keys(&mut conn) {
            let uuids: Vec<String> = match conn.lrange(&key, 0, -1) {
                Ok(uuids) => uuids,
                // Not a list: someone else's key; the tool writes lists only.
                Err(_) => continue,
            };
            for uuid in uuids {
                if prefixes.iter().any(|p| uuid.starts_with(p.as_str())) {
                    pairs.push((key.clone(), uuid));
                }
            }
        }
        Snapshot::from_pairs(pairs)
    }

    fn remove(&self, key: &str, uuid: &str) {
        let _: i64 = self.connection().lrem(key, 0, uuid).expect("LREM");
    }

    fn checkpoint(&self, name: &str) -> Option<Checkpoint> {
        let text: Option<String> = self
            .connection()
            .get(format!("{CHECKPOINT_PREFIX}{name}"))
            .expect("GET checkpoint");
        let text = text?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("stored checkpoint is not JSON ({e}): {text}"));
        assert!(
            v["lastUpdated"].as_str().is_some_and(|t| t.contains('T')),
            "checkpoint without an RFC 3339 lastUpdated: {text}"
        );
        Some(Checkpoint {
            first_index: v["firstIndex"].as_u64().expect("firstIndex"),
            last_completed_index: v["lastCompletedIndex"]
                .as_u64()
                .expect("lastCompletedIndex"),
        })
    }

    fn delete_checkpoint(&self, name: &str) {
        let _: i64 = self
            .connection()
            .del(format!("{CHECKPOINT_PREFIX}{name}"))
            .expect("DEL checkpoint");
    }

    fn failures(&self, name: &str) -> BTreeMap<u64, StoredFailure> {
        let all: BTreeMap<String, String> = self
            .connection()
            .hgetall(format!("{FAILED_PREFIX}{name}"))
            .expect("HGETALL failures");
        all.into_iter()
            .map(|(field, json)| {
                let v: serde_json::Value = serde_json::from_str(&json)
                    .unwrap_or_else(|e| panic!("failure record is not JSON ({e}): {json}"));
                let index: u64 = field.parse().expect("field is a log index");
                assert_eq!(v["logIndex"], index, "{json}");
                for time in ["firstSeen", "lastSeen"] {
                    assert!(v[time].as_str().is_some_and(|t| t.contains('T')), "{json}");
                }
                let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                let failure = StoredFailure {
                    uuid: text("uuid"),
                    kind: text("kind"),
                    error: text("error"),
                    attempts: v["attempts"].as_u64().expect("attempts"),
                };
                (index, failure)
            })
            .collect()
    }

    fn delete_failures(&self, name: &str) {
        let _: i64 = self
            .connection()
            .del(format!("{FAILED_PREFIX}{name}"))
            .expect("DEL failures");
    }

    fn drop_lease(&self, name: &str) {
        let _: i64 = self
            .connection()
            .del(format!("rekor-backfill:lock:{name}"))
            .expect("DEL lease");
    }

    fn launch_private() -> (Box<dyn PrivateService>, RedisBackend) {
        let redis = PrivateRedis::launch();
        let backend = redis.backend.clone();
        (Box::new(redis), backend)
    }

    fn purge(&self, prefixes: &[String]) {
        let snapshot = self.snapshot(prefixes);
        if snapshot.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for (key, uuid) in snapshot.pairs() {
            pipe.lrem(key, 0, uuid).ignore();
        }
        let _: () = pipe.query(&mut self.connection()).expect("LREM pipeline");
    }
}
