//! The contiguous watermark: the lowest log index not yet completed, with
//! completions above it remembered in a sliding-window bitset.
//!
//! Workers finish out of order. The checkpoint may only claim a prefix of the
//! range in which every index is complete, so completions above the first
//! gap are kept as bits until the gap closes. Memory is proportional to the
//! distance between the watermark and the highest completion — bounded by the
//! dispatcher's in-flight window — never to the size of the range.

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct Watermark {
    /// Lowest index not yet completed: every index in `first..next` is done.
    next: u64,
    /// Index of bit 0 of `words[0]`; a multiple of 64, `<= next`.
    word_base: u64,
    /// Completions at or above `next`.
    words: VecDeque<u64>,
}

/// A completion the watermark cannot take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkError {
    /// Completed twice: a bug in the caller, never silently absorbed.
    Duplicate(u64),
}

impl Watermark {
    /// A watermark for a run whose first index is `first`.
    pub fn new(first: u64) -> Watermark {
        Watermark {
            next: first,
            word_base: first - first % 64,
            words: VecDeque::new(),
        }
    }

    /// The lowest index not yet completed.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Records `index` as complete and advances over any contiguous run.
    /// Returns how far the watermark moved.
    pub fn complete(&mut self, index: u64) -> Result<u64, MarkError> {
        if index < self.next {
            return Err(MarkError::Duplicate(index));
        }
        let offset = index - self.word_base;
        let word = usize::try_from(offset / 64).expect("in-flight window fits in memory");
        let bit = 1u64 << (offset % 64);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        if self.words[word] & bit != 0 {
            return Err(MarkError::Duplicate(index));
        }
        self.words[word] |= bit;
        Ok(self.advance())
    }

    fn advance(&mut self) -> u64 {
        let before = self.next;
        while let Some(&front) = self.words.front() {
            let shift = self.next - self.word_base;
            // Bits of the front word at and above `next`, counted as a run.
            let run = u64::from((front >> shift).trailing_ones());
            self.next += run;
            if self.next - self.word_base < 64 {
                break;
            }
            self.words.pop_front();
            self.word_base += 64;
        }
        self.next - before
    }

    /// Number of 64-bit words held: the memory the window costs.
    pub fn words_held(&self) -> usize {
        self.words.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn in_order_and_out_of_order() {
        let mut w = Watermark::new(10);
        assert_eq!(w.complete(11), Ok(0));
        assert_eq!(w.next(), 10);
        assert_eq!(w.complete(10), Ok(2));
        assert_eq!(w.next(), 12);
        assert_eq!(w.complete(11), Err(MarkError::Duplicate(11)));
        assert_eq!(w.complete(200), Ok(0));
        assert_eq!(w.complete(200), Err(MarkError::Duplicate(200)));
        for i in 12..200 {
            w.complete(i).unwrap();
        }
        assert_eq!(w.next(), 201);
        assert!(w.words_held() <= 1);
    }

    #[test]
    fn memory_stays_bounded_over_a_long_range() {
        // A window of 1000 in flight over ten million indices.
        let mut w = Watermark::new(0);
        let window = 1000u64;
        for i in 0..10_000_000u64 {
            // Complete in a scrambled order within each window.
            let block = i / window * window;
            let j = block + (i * 7919) % window;
            w.complete(j).unwrap();
            assert!(w.words_held() <= (window / 64 + 2) as usize);
        }
        assert_eq!(w.next(), 10_000_000);
    }

    proptest! {
        /// Against a model: after each completion, `next` is the smallest
        /// index of the range not yet completed; indices left incomplete
        /// (failures) hold the watermark below them forever.
        #[test]
        fn matches_model(
            first in 0u64..300,
            len in 1usize..600,
            seed in any::<u64>(),
            skip in proptest::collection::btree_set(0usize..600, 0..5),
        ) {
            let mut order: Vec<u64> = (first..first + len as u64).collect();
            // Fisher-Yates with a small LCG: a random completion order.
            let mut state = seed | 1;
            for i in (1..order.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let j = (state >> 33) as usize % (i + 1);
                order.swap(i, j);
            }
            let mut w = Watermark::new(first);
            let mut done = BTreeSet::new();
            for (pos, index) in order.iter().enumerate() {
                if skip.contains(&pos) {
                    continue;
                }
                w.complete(*index).unwrap();
                done.insert(*index);
                let expected = (first..).find(|i| !done.contains(i)).unwrap();
                prop_assert_eq!(w.next(), expected);
            }
        }
    }
}
