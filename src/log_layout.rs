//! Which Trillian tree holds which global log index, and the part of that
//! a checkpoint records so it is never resumed against another log.
//!
//! A Rekor log is a sequence of trees ("shards"): the inactive ones, oldest
//! first, as `GET /api/v1/log` lists them in `inactiveShards`, then the
//! active tree, where growth happens. Global log indices run through them
//! in that order, so a tree's first global index is the sum of the sizes
//! before it. A rotation turns the active tree into an inactive one that
//! keeps its global indices and starts a new active tree after it.
//!
//! A checkpoint says "indices F..=N of *this* log are indexed". Resumed
//! against a log that was reset (a new tree at index 0) or against another
//! server, the same numbers name other entries, and the run would skip
//! them. So a checkpoint records the trees its range covers ([`LogBinding`])
//! and a resume checks them against the current layout: each recorded tree
//! must still be there, at the same first index, at least as large.

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

/// One tree of the log and the global indices it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    /// Trillian's tree ID, as Rekor prints it (a decimal int64).
    #[serde(rename = "treeID")]
    pub tree_id: String,
    /// Global log index of the tree's first entry.
    #[serde(rename = "startIndex")]
    pub start_index: u64,
    /// Entries in the tree (when it was seen).
    #[serde(rename = "treeSize")]
    pub size: u64,
}

impl Tree {
    /// Global indices of the tree; empty for an empty tree.
    fn global_range(&self) -> std::ops::Range<u64> {
        self.start_index..self.start_index.saturating_add(self.size)
    }
}

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.size {
            0 => write!(
                f,
                "tree {} (empty, from index {})",
                self.tree_id, self.start_index
            ),
            n => write!(
                f,
                "tree {} (indices {}..={})",
                self.tree_id,
                self.start_index,
                self.start_index.saturating_add(n - 1)
            ),
        }
    }
}

/// The trees of a log, in global index order (inactive oldest first, the
/// active tree last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLayout {
    trees: Vec<Tree>,
}

impl LogLayout {
    /// From `(treeID, treeSize)` pairs: the inactive shards in the order
    /// Rekor lists them, then the active tree.
    pub fn new(inactive: Vec<(String, u64)>, active: (String, u64)) -> LogLayout {
        let mut start_index = 0u64;
        let trees = inactive
            .into_iter()
            .chain(std::iter::once(active))
            .map(|(tree_id, size)| {
                let tree = Tree {
                    tree_id,
                    start_index,
                    size,
                };
                start_index = start_index.saturating_add(size);
                tree
            })
            .collect();
        LogLayout { trees }
    }

    /// Entries over all trees: global log indices are `0..total_size()`.
    pub fn total_size(&self) -> u64 {
        self.trees
            .iter()
            .fold(0u64, |sum, t| sum.saturating_add(t.size))
    }

    /// Every tree, in global index order.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// The active tree (the last one).
    pub fn active(&self) -> &Tree {
        // `new` always pushes the active tree.
        &self.trees[self.trees.len() - 1]
    }

    pub fn inactive_count(&self) -> usize {
        self.trees.len() - 1
    }

    /// The trees that hold some index of `range`, as a checkpoint records
    /// them.
    pub fn binding(&self, range: RangeInclusive<u64>) -> LogBinding {
        LogBinding(
            self.trees
                .iter()
                .filter(|t| {
                    let held = t.global_range();
                    held.start <= *range.end() && *range.start() < held.end
                })
                .cloned()
                .collect(),
        )
    }

    fn tree(&self, tree_id: &str) -> Option<&Tree> {
        self.trees.iter().find(|t| t.tree_id == tree_id)
    }

    /// Why `--end` probably is a mistake: the log has inactive shards and
    /// `end` stops short of its last index. That is what a wrapper that
    /// computes `--end` as `treeSize - 1` of `GET /api/v1/log` gets, since
    /// `treeSize` counts the active tree only, while log indices count
    /// every tree.
    pub fn end_warning(&self, end: u64) -> Option<String> {
        let last = self.total_size().checked_sub(1)?;
        if self.inactive_count() == 0 || end >= last {
            return None;
        }
        let active = self.active().size;
        let active_only = if end.checked_add(1) == Some(active) {
            " --end is the active shard's treeSize-1, but"
        } else {
            ""
        };
        Some(format!(
            "--end {end} stops short of the log's last index {last}:{active_only} log indices \
             count the {} inactive shard(s) too (treeSize {active} + inactiveShards[].treeSize {}); \
             indices {}..={last} are not indexed by this run. Omit --end to index up to the \
             log's last index",
            self.inactive_count(),
            self.total_size() - active,
            end + 1,
        ))
    }

    /// The layout in a log line: `tree 1 (indices 0..=99), tree 2 (...)`.
    pub fn describe(&self) -> String {
        let trees: Vec<String> = self.trees.iter().map(Tree::to_string).collect();
        trees.join(", ")
    }
}

/// The trees a checkpoint's range covered when it was saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogBinding(pub Vec<Tree>);

impl LogBinding {
    /// Whether the checkpoint may be resumed against `layout`: every
    /// recorded tree is still there, at the same first index, and has not
    /// shrunk (a rotated tree keeps its indices and only grew until it was
    /// frozen). On refusal, says what differs.
    pub fn check(&self, layout: &LogLayout) -> Result<(), String> {
        for recorded in &self.0 {
            let Some(now) = layout.tree(&recorded.tree_id) else {
                return Err(format!(
                    "it was written against {recorded}, and the log has no tree {} any more (it has {})",
                    recorded.tree_id,
                    layout.describe()
                ));
            };
            if now.start_index != recorded.start_index || now.size < recorded.size {
                return Err(format!(
                    "it was written against {recorded}, and the log now has {now}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(inactive: &[(&str, u64)], active: (&str, u64)) -> LogLayout {
        LogLayout::new(
            inactive.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
            (active.0.to_string(), active.1),
        )
    }

    #[test]
    fn end_warning_for_sharded_logs_only() {
        let sharded = layout(&[("1", 5), ("2", 7)], ("3", 10));
        let warning = sharded.end_warning(9).expect("treeSize-1 of a sharded log");
        assert!(warning.contains("--end 9 stops short of the log's last index 21"));
        assert!(warning.contains("active shard's treeSize-1"));
        assert!(warning.contains("(treeSize 10 + inactiveShards[].treeSize 12)"));
        assert!(warning.contains("indices 10..=21"));
        let other = sharded
            .end_warning(15)
            .expect("any end short of the last index");
        assert!(!other.contains("treeSize-1"), "{other}");
        assert_eq!(sharded.end_warning(21), None);
        assert_eq!(layout(&[], ("1", 10)).end_warning(5), None);
        assert_eq!(layout(&[], ("1", 0)).end_warning(0), None);
    }

    #[test]
    fn global_indices_run_through_the_trees_in_order() {
        let l = layout(&[("1", 100), ("2", 50)], ("3", 7));
        assert_eq!(l.total_size(), 157);
        assert_eq!(l.active().start_index, 150);
        assert_eq!(l.inactive_count(), 2);
        let ids = |b: LogBinding| b.0.into_iter().map(|t| t.tree_id).collect::<Vec<_>>();
        assert_eq!(ids(l.binding(0..=99)), ["1"]);
        assert_eq!(ids(l.binding(99..=100)), ["1", "2"]);
        assert_eq!(ids(l.binding(120..=156)), ["2", "3"]);
        assert_eq!(ids(l.binding(150..=150)), ["3"]);
    }

    #[test]
    fn rotation_resumes_reset_and_other_logs_refuse() {
        let before = layout(&[], ("7", 300));
        let binding = before.binding(0..=299);
        // The log grew.
        assert!(binding.check(&layout(&[], ("7", 400))).is_ok());
        // A normal rotation: tree 7 frozen at 420, tree 8 after it.
        assert!(binding.check(&layout(&[("7", 420)], ("8", 10))).is_ok());
        // A reset: a new tree at index 0.
        let e = binding.check(&layout(&[], ("9", 500))).unwrap_err();
        assert!(e.contains("no tree 7"), "{e}");
        // The same tree ID at other indices, or smaller: not the same log.
        let e = binding
            .check(&layout(&[("5", 10)], ("7", 400)))
            .unwrap_err();
        assert!(e.contains("indices 10..=409"), "{e}");
        assert!(binding.check(&layout(&[], ("7", 200))).is_err());
    }

    #[test]
    fn binding_json() {
        let b = layout(&[("1", 2)], ("3", 4)).binding(0..=5);
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(
            json,
            r#"[{"treeID":"1","startIndex":0,"treeSize":2},{"treeID":"3","startIndex":2,"treeSize":4}]"#
        );
        assert_eq!(serde_json::from_str::<LogBinding>(&json).unwrap(), b);
    }
}
