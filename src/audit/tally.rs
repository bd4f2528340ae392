//! What an audit found, counted per entry kind: the table the operator
//! reads, the first missing pairs as examples, and the figures the JSON
//! summary and the metrics carry. One place, so the three never disagree.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// Missing pairs listed as examples; the counts cover all of them.
pub const EXAMPLES: usize = 20;

/// Where a (key, UUID) pair was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Under the key the server looks up.
    Present,
    /// Not there, but under a case variant of it (Redis, the Go tool's
    /// capitals): invisible to a search until `fix-case` merges it.
    MisCased,
    /// Nowhere.
    Missing,
}

/// The counts of one kind (or of all kinds). Pairs are distinct (stored
/// key, UUID) pairs, as the index holds them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Entries fetched.
    pub entries: u64,
    /// Pairs a backfill of these entries writes.
    pub pairs_expected: u64,
    pub present: u64,
    pub missing: u64,
    pub mis_cased: u64,
    /// Entries with upload-time keys the API cannot give back (see the
    /// module doc of [`crate::audit`]); their other pairs are checked.
    pub not_recoverable: u64,
    /// Entries that cannot be decoded or keyed (a backfill reports them
    /// as failed): nothing to check.
    pub not_keyable: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.entries += other.entries;
        self.pairs_expected += other.pairs_expected;
        self.present += other.present;
        self.missing += other.missing;
        self.mis_cased += other.mis_cased;
        self.not_recoverable += other.not_recoverable;
        self.not_keyable += other.not_keyable;
    }

    /// Whether every expected pair is where the server looks for it.
    pub fn complete(&self) -> bool {
        self.missing == 0 && self.mis_cased == 0
    }
}

/// One missing (or mis-cased) pair, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    pub index: u64,
    pub uuid: String,
    pub key: String,
    pub presence: Presence,
}

/// The audit's findings so far.
#[derive(Debug, Default)]
pub struct Tally {
    by_kind: BTreeMap<String, Counts>,
    /// The first [`EXAMPLES`] pairs not present, in log order.
    pub examples: Vec<Example>,
}

impl Tally {
    /// An entry of `kind` was fetched; `keyable` whether it has keys,
    /// `recoverable` whether all of its keys can be computed.
    pub fn entry(&mut self, kind: &str, keyable: bool, recoverable: bool) {
        let counts = self.kind(kind);
        counts.entries += 1;
        counts.not_keyable += u64::from(!keyable);
        counts.not_recoverable += u64::from(!recoverable);
    }

    /// One pair of an entry of `kind`, found as `presence`.
    pub fn pair(&mut self, kind: &str, index: u64, uuid: &str, key: &str, presence: Presence) {
        let counts = self.kind(kind);
        counts.pairs_expected += 1;
        match presence {
            Presence::Present => counts.present += 1,
            Presence::Missing => counts.missing += 1,
            Presence::MisCased => counts.mis_cased += 1,
        }
        if presence != Presence::Present && self.examples.len() < EXAMPLES {
            self.examples.push(Example {
                index,
                uuid: uuid.to_string(),
                key: key.to_string(),
                presence,
            });
        }
    }

    fn kind(&mut self, kind: &str) -> &mut Counts {
        self.by_kind.entry(kind.to_string()).or_default()
    }

    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for counts in self.by_kind.values() {
            total.add(counts);
        }
        total
    }

    /// The per-kind table, one line per kind and a total, columns aligned.
    pub fn table(&self) -> Vec<String> {
        let header = [
            "kind",
            "entries",
            "pairs",
            "present",
            "missing",
            "mis-cased",
            "not-recoverable",
            "not-keyable",
        ];
        let total = self.total();
        let rows = self
            .by_kind
            .iter()
            .map(|(kind, c)| (kind.as_str(), c))
            .chain([("total", &total)]);
        let mut lines = vec![header
            .iter()
            .enumerate()
            .map(|(i, h)| cell(i, h))
            .collect::<String>()];
        for (kind, c) in rows {
            let values = [
                c.entries,
                c.pairs_expected,
                c.present,
                c.missing,
                c.mis_cased,
                c.not_recoverable,
                c.not_keyable,
            ];
            let mut line = cell(0, kind);
            for (i, v) in values.iter().enumerate() {
                line.push_str(&cell(i + 1, &v.to_string()));
            }
            lines.push(line);
        }
        lines.iter().map(|l| l.trim_end().to_string()).collect()
    }

    /// The audit's own Prometheus series (beside the backfill's, never
    /// replacing them), with `labels` on each.
    pub fn render_metrics(&self, exit_status: u8, labels: &str) -> String {
        let total = self.total();
        let mut out = String::new();
        let mut series = |name: &str, help: &str, value: u64| {
            let name = format!("rekor_backfill_audit_{name}");
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name}{labels} {value}");
        };
        series(
            "entries",
            "Log entries the last audit checked.",
            total.entries,
        );
        series(
            "pairs_expected",
            "Index (key, UUID) pairs the last audit expected.",
            total.pairs_expected,
        );
        series(
            "pairs_present",
            "Expected pairs the last audit found under their key.",
            total.present,
        );
        series(
            "pairs_missing",
            "Expected pairs the last audit found nowhere.",
            total.missing,
        );
        series(
            "pairs_mis_cased",
            "Expected pairs the last audit found only under a mis-cased Redis key.",
            total.mis_cased,
        );
        series(
            "entries_not_recoverable",
            "Entries with upload-time keys the Rekor API cannot give back.",
            total.not_recoverable,
        );
        series(
            "entries_not_keyable",
            "Entries the last audit could not decode or key.",
            total.not_keyable,
        );
        series(
            "exit_status",
            "Exit status of the last audit (0 complete, 5 missing or mis-cased pairs).",
            u64::from(exit_status),
        );
        out
    }
}

/// A table cell: the kind left-aligned, numbers right-aligned.
fn cell(column: usize, text: &str) -> String {
    match column {
        0 => format!("{text:<14}"),
        _ => format!("{text:>16}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_kind_and_examples_in_order() {
        let mut t = Tally::default();
        t.entry("dsse", true, false);
        t.pair("dsse", 3, "u3", "k1", Presence::Present);
        t.pair("dsse", 3, "u3", "k2", Presence::Missing);
        t.entry("rekord", true, true);
        t.pair("rekord", 4, "u4", "k3", Presence::MisCased);
        t.entry("rekord", false, true);
        let total = t.total();
        assert_eq!(
            total,
            Counts {
                entries: 3,
                pairs_expected: 3,
                present: 1,
                missing: 1,
                mis_cased: 1,
                not_recoverable: 1,
                not_keyable: 1,
            }
        );
        assert!(!total.complete());
        assert_eq!(
            t.examples.iter().map(|e| e.index).collect::<Vec<_>>(),
            [3, 4]
        );
        let table = t.table();
        assert_eq!(table.len(), 4, "{table:#?}");
        assert!(table[0].starts_with("kind") && table[0].ends_with("not-keyable"));
        assert!(table[3].starts_with("total"));
        let v: serde_json::Value = serde_json::to_value(total).unwrap();
        assert_eq!(
            (v["missing"].as_u64(), v["misCased"].as_u64()),
            (Some(1), Some(1))
        );
        let metrics = t.render_metrics(5, "{checkpoint=\"x\"}");
        assert!(metrics.contains("rekor_backfill_audit_pairs_missing{checkpoint=\"x\"} 1\n"));
        assert!(metrics.contains("rekor_backfill_audit_exit_status{checkpoint=\"x\"} 5\n"));
    }

    #[test]
    fn examples_are_bounded() {
        let mut t = Tally::default();
        for i in 0..100 {
            t.pair("x", i, "u", "k", Presence::Missing);
        }
        assert_eq!(t.examples.len(), EXAMPLES);
        assert_eq!(t.total().missing, 100);
    }
}
