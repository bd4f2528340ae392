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
