//! RFC 6962 Merkle tree hashing, in one place: the leaf and node hashes
//! (used by the inclusion proofs of [`super::inclusion`]) and the root of
//! a whole tree computed from its leaf hashes as they stream by
//! ([`RootBuilder`]), which is how `--verify-log` checks a tree read
//! straight from Trillian's database against its signed tree head.
//!
//! The builder keeps the compact range of the leaves seen so far: one
//! subtree hash per set bit of the leaf count (the perfect subtrees a
//! left-to-right walk has completed), so a tree of any size costs at most
//! 64 hashes of memory and one node hash per leaf on average. The root is
//! those subtrees folded right to left, which is RFC 6962's MTH: the left
//! part of a split is always the largest perfect subtree.

use sha2::{Digest, Sha256};

/// A SHA-256 hash of the tree.
pub type Hash = [u8; 32];

/// RFC 6962 leaf hash: SHA-256(0x00 ‖ leaf).
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &[u8], right: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of a tree whose leaf hashes are pushed in sequence order.
#[derive(Debug, Default, Clone)]
pub struct RootBuilder {
    /// Perfect subtrees, largest (leftmost) first; their sizes are the set
    /// bits of `size`, from the highest down.
    subtrees: Vec<Hash>,
    size: u64,
}

impl RootBuilder {
    pub fn new() -> RootBuilder {
        RootBuilder::default()
    }

    /// Leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends the leaf whose RFC 6962 leaf hash is `leaf_hash`.
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut hash = leaf_hash;
        // Each trailing one bit of the old size is a subtree of the size
        // just completed: merge them, smallest (rightmost) first.
        let mut merges = self.size.trailing_ones();
        while merges > 0 {
            // A set bit of `size` always has its subtree on the stack.
            let Some(left) = self.subtrees.pop() else {
                break;
            };
            hash = node_hash(&left, &hash);
            merges -= 1;
        }
        self.subtrees.push(hash);
        self.size += 1;
    }

    /// The Merkle tree hash of the leaves pushed (SHA-256 of nothing for
    /// an empty tree).
    pub fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(last) = subtrees.next() else {
            return Sha256::digest([]).into();
        };
        subtrees.fold(*last, |right, left| node_hash(left, &right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leaves of the RFC 6962 test vectors (Certificate Transparency's
    /// merkle_tree_test.cc, Trillian's merkle/testonly).
    const LEAVES: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];

    /// Their roots for the first 0..=8 leaves, as published with them and
    /// cross-checked with an independent Python implementation of MTH.
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// RFC 6962 MTH, recursively, as the RFC defines it.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                let k = n.next_power_of_two() / 2;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn roots_of_the_rfc_6962_test_vectors() {
        let mut builder = RootBuilder::new();
        assert_eq!(hex::encode(builder.root()), ROOTS[0]);
        for (n, leaf) in LEAVES.iter().enumerate() {
            builder.push(leaf_hash(leaf));
            assert_eq!(builder.size(), n as u64 + 1);
            assert_eq!(hex::encode(builder.root()), ROOTS[n + 1], "size {}", n + 1);
        }
    }

    #[test]
    fn streamed_root_is_the_recursive_one_for_every_small_size() {
        let leaves: Vec<Hash> = (0..300u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut builder = RootBuilder::new();
        for n in 1..=leaves.len() {
            builder.push(leaves[n - 1]);
            assert_eq!(builder.root(), mth(&leaves[..n]), "size {n}");
            // The compact range: one subtree per set bit of the size.
            assert_eq!(builder.subtrees.len(), n.count_ones() as usize);
        }
    }

    #[test]
    fn one_changed_or_moved_leaf_changes_the_root() {
        let leaves: Vec<Hash> = (0..13u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let root = |leaves: &[Hash]| {
            let mut b = RootBuilder::new();
            leaves.iter().for_each(|l| b.push(*l));
            b.root()
        };
        let good = root(&leaves);
        let mut changed = leaves.clone();
        changed[12] = leaf_hash(b"other");
        assert_ne!(root(&changed), good);
        let mut swapped = leaves.clone();
        swapped.swap(3, 4);
        assert_ne!(root(&swapped), good);
        assert_ne!(root(&leaves[..12]), good);
    }
}
