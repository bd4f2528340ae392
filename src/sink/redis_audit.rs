//! The Redis side of `rekor-backfill audit`: where each (key, UUID) pair
//! is, read without writing.
//!
//! Cost stays linear in the size of the index, never quadratic in a hot
//! key: per window one pipelined `LLEN` per distinct key not yet known to
//! be long; a short list (under [`LONG_LIST`]) is read whole with one
//! pipelined `LRANGE` and checked client side; a long list is read once
//! per run, in pages, into the fingerprints of [`LongLists`] (the same
//! reading a backfill does, with its memory budget), and every later
//! window checks against them.
//!
//! Mis-cased keys: the first lookup walks the keyspace once with
//! `SCAN 0 TYPE list` and keeps the names of the lists whose name is not
//! its own Go lowercase ([`mixed_case_lists`]): in an index written by the
//! server or by rekor-backfill there are none, after the Go tool a few per
//! mixed-case e-mail, URI or PGP user ID. That is one pass over the key
//! names, linear, whatever the range. A pair not under its key is then
//! looked up under those variants of it (read once per run each, as long
//! lists), and is "mis-cased" when found there.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::anyhow;
use redis::Connection;

use super::long_lists::{LongLists, LONG_LIST};
use super::redis::RedisBackend;
use super::redis_fix_case::mixed_case_lists;
use crate::audit::{IndexReader, Presence};
use crate::pki::gostr;

/// Keys per pipeline of `LLEN` or `LRANGE` (short lists: at most
/// `LONG_LIST` UUIDs each, so a reply stays under ~10 MB).
const KEYS_PER_PIPELINE: usize = 100;

pub struct RedisIndexReader {
    backend: RedisBackend,
    connection: Connection,
    /// Lists read once per run: long lists and mis-cased variants.
    lists: LongLists,
    /// Lowercase key → its mis-cased variants; read at the first lookup.
    variants: Option<BTreeMap<String, Vec<String>>>,
}

impl RedisIndexReader {
    pub fn connect(backend: &RedisBackend) -> anyhow::Result<RedisIndexReader> {
        Ok(RedisIndexReader {
            connection: backend.connect()?,
            backend: backend.clone(),
            lists: LongLists::default(),
            variants: None,
        })
    }

    fn fail(&self, what: &str, e: redis::RedisError) -> anyhow::Error {
        anyhow!("{}: {what}: {e}", self.backend.context())
    }

    /// The pairs' UUIDs found under each key (keys in stored form).
    fn present(
        &mut self,
        by_key: &BTreeMap<&str, Vec<&str>>,
    ) -> Result<HashSet<(String, String)>, redis::RedisError> {
        let keys: Vec<&str> = by_key
            .keys()
            .copied()
            .filter(|k| !self.lists.is_long(k))
            .collect();
        let mut found = HashSet::new();
        for group in keys.chunks(KEYS_PER_PIPELINE) {
            let mut pipeline = redis::pipe();
            for key in group {
                pipeline.cmd("LLEN").arg(*key);
            }
            let lens: Vec<usize> = pipeline.query(&mut self.connection)?;
            let short: Vec<&str> = group
                .iter()
                .zip(lens)
                .filter_map(|(key, len)| match len >= LONG_LIST {
                    true => {
                        self.lists.mark_long(key);
                        None
                    }
                    false => Some(*key),
                })
                .collect();
            let mut pipeline = redis::pipe();
            for key in &short {
                pipeline.cmd("LRANGE").arg(*key).arg(0).arg(-1);
            }
            let lists: Vec<Vec<String>> = pipeline.query(&mut self.connection)?;
            for (key, list) in short.iter().zip(lists) {
                let listed: HashSet<String> = list.into_iter().collect();
                for uuid in &by_key[key] {
                    if listed.contains(*uuid) {
                        found.insert((key.to_string(), uuid.to_string()));
                    }
                }
            }
        }
        for (key, uuids) in by_key {
            if self.lists.is_long(key) {
                let missing: HashSet<&str> = self
                    .lists
                    .missing(&mut self.connection, key, uuids)?
                    .into_iter()
                    .collect();
                for uuid in uuids.iter().filter(|u| !missing.contains(*u)) {
                    found.insert((key.to_string(), uuid.to_string()));
                }
            }
        }
        Ok(found)
    }

    /// Whether `uuid` is listed under a mis-cased variant of `key`.
    fn under_variant(&mut self, key: &str, uuid: &str) -> Result<bool, redis::RedisError> {
        let Some(variants) = self.variants.as_ref().and_then(|v| v.get(key)).cloned() else {
            return Ok(false);
        };
        for variant in variants {
            self.lists.mark_long(&variant);
            if self
                .lists
                .missing(&mut self.connection, &variant, &[uuid])?
                .is_empty()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl IndexReader for RedisIndexReader {
    fn describe(&self) -> String {
        use super::Backend as _;
        self.backend.describe()
    }

    fn stored_key(&self, key: &str) -> String {
        gostr::to_lower(key)
    }

    fn locate(&mut self, pairs: &[(String, String)]) -> anyhow::Result<Vec<Presence>> {
        if self.variants.is_none() {
            let mixed = mixed_case_lists(&mut self.connection)
                .map_err(|e| self.fail("SCAN for mis-cased lists", e))?;
            if !mixed.is_empty() {
                log::info!(
                    "{} lists under keys that are not lowercase (the Go backfill-index writes them; \
                     the server never reads them): pairs found only there count as mis-cased",
                    mixed.len()
                );
            }
            let mut variants: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for key in mixed {
                variants.entry(gostr::to_lower(&key)).or_default().push(key);
            }
            self.variants = Some(variants);
        }
        let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (key, uuid) in pairs {
            by_key.entry(key).or_default().push(uuid);
        }
        let found = self
            .present(&by_key)
            .map_err(|e| self.fail("reading index lists", e))?;
        let mut cache: HashMap<(&str, &str), Presence> = HashMap::new();
        let mut out = Vec::with_capacity(pairs.len());
        for (key, uuid) in pairs {
            if found.contains(&(key.clone(), uuid.clone())) {
                out.push(Presence::Present);
                continue;
            }
            let presence = match cache.get(&(key.as_str(), uuid.as_str())) {
                Some(p) => *p,
                None => {
                    let p = match self
                        .under_variant(key, uuid)
                        .map_err(|e| self.fail("reading mis-cased lists", e))?
                    {
                        true => Presence::MisCased,
                        false => Presence::Missing,
                    };
                    cache.insert((key, uuid), p);
                    p
                }
            };
            out.push(presence);
        }
        Ok(out)
    }
}
