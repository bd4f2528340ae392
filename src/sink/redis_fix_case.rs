//! `rekor-backfill fix-case`: moves index lists written under keys that
//! are not lowercase into their lowercase key.
//!
//! Rekor's Go `backfill-index` writes Redis keys as computed, so an e-mail
//! or URI with capitals (certificate SANs, PGP user IDs) lands under a key
//! the server never reads: the server lowercases every key it writes and
//! looks up (docs/INDEX_KEYS.md §6). Lowercase here is Go's
//! `strings.ToLower` ([`gostr::to_lower`]), the server's own.
//!
//! One `SCAN 0 TYPE list` pass collects the mis-cased lists (only lists:
//! never a string, hash or anything else, and never this tool's own
//! `rekor-backfill:` keys). Then, grouped by lowercase key: the lowercase
//! list is read once, the UUIDs of each variant it lacks are pushed (oldest
//! first, so the newest ends at the head as an `LPUSH` by the server would
//! have put it), and only then is the variant deleted. Crash-safe and
//! idempotent: a crash between the push and the `DEL` leaves the UUIDs in
//! both lists, and a rerun pushes nothing and deletes the variant. Lists
//! are read in pages of [`PAGE`] elements, so no command touches more.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use anyhow::anyhow;
use redis::{Connection, RedisResult};

use super::long_lists::PAGE;
use super::redis::RedisBackend;
use crate::pki::gostr;

/// Keys of this tool (checkpoints, leases, failure records): never touched.
const OWN_PREFIX: &str = "rekor-backfill:";
/// UUIDs per `LPUSH`.
const PUSH: usize = 1_000;

/// What `fix-case` did (or, dry, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FixCaseReport {
    /// Mis-cased lists found.
    pub keys: u64,
    /// UUIDs pushed into lowercase keys.
    pub merged: u64,
    /// UUIDs already under their lowercase key.
    pub already: u64,
    /// Mis-cased lists deleted.
    pub deleted: u64,
    /// Mis-cased keys left alone (the lowercase key holds something else
    /// than a list, or the key changed type since the scan).
    pub skipped: u64,
}

/// The names of the lists whose name is not Go-lowercase, this tool's own
/// keys excepted: one `SCAN 0 TYPE list` pass.
pub(super) fn mixed_case_lists(con: &mut Connection) -> RedisResult<BTreeSet<String>> {
    let mut cursor: u64 = 0;
    let mut mixed = BTreeSet::new();
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .arg("TYPE")
            .arg("list")
            .query(con)?;
        mixed.extend(
            keys.into_iter()
                .filter(|k| !k.starts_with(OWN_PREFIX) && gostr::to_lower(k) != *k),
        );
        if next == 0 {
            return Ok(mixed);
        }
        cursor = next;
    }
}

/// Runs `fix-case` on `backend`; `say` gets one line per action (printed
/// on stdout by the command).
pub fn fix_case(
    backend: &RedisBackend,
    dry_run: bool,
    say: &mut dyn FnMut(&str),
) -> anyhow::Result<FixCaseReport> {
    let context = backend.context();
    let mut con = backend.connect()?;
    let fail = |what: &str, e: redis::RedisError| anyhow!("{context}: {what}: {e}");
    let mixed = mixed_case_lists(&mut con).map_err(|e| fail("SCAN … TYPE list", e))?;
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for key in mixed {
        groups.entry(gostr::to_lower(&key)).or_default().push(key);
    }
    let mut report = FixCaseReport::default();
    for (lower, variants) in &groups {
        report.keys += variants.len() as u64;
        match key_type(&mut con, lower)
            .map_err(|e| fail("TYPE", e))?
            .as_str()
        {
            "list" | "none" => {}
            other => {
                say(&format!(
                    "skip {lower:?}: it is a {other}, not a list; its variants are left alone"
                ));
                report.skipped += variants.len() as u64;
                continue;
            }
        }
        let mut listed: HashSet<String> = read_list(&mut con, lower)
            .map_err(|e| fail(&format!("reading {lower:?}"), e))?
            .into_iter()
            .collect();
        for variant in variants {
            if key_type(&mut con, variant).map_err(|e| fail("TYPE", e))? != "list" {
                say(&format!("skip {variant:?}: no longer a list"));
                report.skipped += 1;
                continue;
            }
            let uuids = read_list(&mut con, variant)
                .map_err(|e| fail(&format!("reading {variant:?}"), e))?;
            // Oldest first, each once, only those not there yet.
            let mut push: Vec<String> = Vec::new();
            let mut already = 0;
            for uuid in uuids.into_iter().rev() {
                if listed.insert(uuid.clone()) {
                    push.push(uuid);
                } else {
                    already += 1;
                }
            }
            report.already += already;
            let verb = if dry_run { "would merge" } else { "merge" };
            say(&format!(
                "{verb} {} UUIDs of {variant:?} into {lower:?} ({} already there), then delete {variant:?}",
                push.len(),
                already
            ));
            report.merged += push.len() as u64;
            if dry_run {
                continue;
            }
            for batch in push.chunks(PUSH) {
                redis::cmd("LPUSH")
                    .arg(lower)
                    .arg(batch)
                    .query::<()>(&mut con)
                    .map_err(|e| fail(&format!("LPUSH {lower:?}"), e))?;
            }
            redis::cmd("DEL")
                .arg(variant)
                .query::<()>(&mut con)
                .map_err(|e| fail(&format!("DEL {variant:?}"), e))?;
            report.deleted += 1;
        }
    }
    Ok(report)
}

fn key_type(con: &mut Connection, key: &str) -> RedisResult<String> {
    redis::cmd("TYPE").arg(key).query(con)
}

/// The whole list, head first, read in pages of [`PAGE`].
fn read_list(con: &mut Connection, key: &str) -> RedisResult<Vec<String>> {
    let mut all = Vec::new();
    loop {
        let start = all.len();
        let page: Vec<String> = redis::cmd("LRANGE")
            .arg(key)
            .arg(start)
            .arg(start + PAGE - 1)
            .query(con)?;
        let done = page.len() < PAGE;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}
