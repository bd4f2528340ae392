//! Sharded first fills: `--shard-count N` processes (a Kubernetes Indexed
//! Job's pods) split one range `--start..=--end` into N contiguous,
//! near-equal parts, and process `I` indexes part `I` only, under its own
//! checkpoint name `<NAME>:shard-<I>-of-<N>` (and so its own lease).
//!
//! Every process must split the same range, so `--end` is required: each
//! resolving "the log's last index" itself would see a different size at a
//! different moment, and the parts would overlap or leave gaps. A process
//! replaced with the same index (the Job's restart) computes the same part
//! and resumes its own checkpoint.

use std::ops::RangeInclusive;

/// Which part of the range this process indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardPart {
    pub index: u64,
    pub count: u64,
    /// The whole range, as every shard splits it.
    pub whole: RangeInclusive<u64>,
    /// This shard's part of it.
    pub part: RangeInclusive<u64>,
}

impl ShardPart {
    /// Part `index` of `count` of `whole`: the first `len % count` parts are
    /// one index longer than the rest. Errors when a part would be empty or
    /// the index is out of range.
    pub fn of(whole: RangeInclusive<u64>, count: u64, index: u64) -> Result<ShardPart, String> {
        if count == 0 {
            return Err("--shard-count must be at least 1".to_string());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range for --shard-count {count} (0..={})",
                count - 1
            ));
        }
        let (start, end) = (*whole.start(), *whole.end());
        let len = u128::from(end) - u128::from(start) + 1;
        if u128::from(count) > len {
            return Err(format!(
                "--shard-count {count} is more than the {len} indices of {start}..={end}"
            ));
        }
        let (count_w, index_w) = (u128::from(count), u128::from(index));
        let base = len / count_w;
        let longer = len % count_w;
        let first = u128::from(start) + index_w * base + index_w.min(longer);
        let size = base + u128::from(index_w < longer);
        // Both bounds lie inside `whole`, so they fit in u64.
        let part = first as u64..=(first + size - 1) as u64;
        Ok(ShardPart {
            index,
            count,
            whole,
            part,
        })
    }

    /// The checkpoint name suffix: `:shard-<I>-of-<N>`.
    pub fn checkpoint_suffix(&self) -> String {
        format!(":shard-{}-of-{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(whole: RangeInclusive<u64>, count: u64) -> Vec<(u64, u64)> {
        (0..count)
            .map(|i| {
                let p = ShardPart::of(whole.clone(), count, i).unwrap().part;
                (*p.start(), *p.end())
            })
            .collect()
    }

    #[test]
    fn contiguous_near_equal_parts() {
        assert_eq!(parts(0..=9, 4), [(0, 2), (3, 5), (6, 7), (8, 9)]);
        assert_eq!(parts(5..=8, 4), [(5, 5), (6, 6), (7, 7), (8, 8)]);
        assert_eq!(parts(0..=458, 1), [(0, 458)]);
        assert_eq!(
            parts(0..=u64::MAX, 2),
            [(0, u64::MAX / 2), (u64::MAX / 2 + 1, u64::MAX)]
        );
        // Every index exactly once, for many shapes.
        for count in 1..=9u64 {
            for len in count..40 {
                let all: Vec<u64> = parts(100..=99 + len, count)
                    .into_iter()
                    .flat_map(|(a, b)| a..=b)
                    .collect();
                assert_eq!(all, (100..100 + len).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn bad_splits() {
        assert!(ShardPart::of(0..=9, 0, 0).is_err());
        assert!(ShardPart::of(0..=9, 4, 4)
            .unwrap_err()
            .contains("out of range"));
        assert!(ShardPart::of(0..=2, 4, 0)
            .unwrap_err()
            .contains("more than"));
        let p = ShardPart::of(0..=9, 4, 3).unwrap();
        assert_eq!(p.checkpoint_suffix(), ":shard-3-of-4");
    }
}
