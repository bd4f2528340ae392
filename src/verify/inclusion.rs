//! RFC 6962 inclusion proofs: the leaf hash of a body, hashed up the
//! audit path, must give the root the proof claims. The hashes are
//! [`super::merkle`]'s.

pub use super::merkle::leaf_hash;
use super::merkle::node_hash;

/// The root an audit path leads to (RFC 9162 §2.1.3.2), or why the path
/// cannot belong to a tree of `size` leaves.
pub fn root_from_path(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    path: &[[u8; 32]],
) -> Result<[u8; 32], String> {
    if index >= size {
        return Err(format!("leaf index {index} is not below tree size {size}"));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if s == 0 {
            return Err("the audit path is longer than the tree is deep".into());
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err("the audit path is shorter than the tree is deep".into());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// RFC 6962 Merkle tree hash, computed directly.
    fn mth(leaves: &[Vec<u8>]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = n.next_power_of_two() / 2;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// RFC 6962 PATH(m, D[n]).
    fn path(m: usize, leaves: &[Vec<u8>]) -> Vec<[u8; 32]> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = n.next_power_of_two() / 2;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn every_leaf_of_every_small_tree_proves_to_the_root() {
        for n in 1..=17usize {
            let leaves: Vec<Vec<u8>> = (0..n).map(|i| format!("leaf {i}").into_bytes()).collect();
            let root = mth(&leaves);
            for m in 0..n {
                let p = path(m, &leaves);
                let got = root_from_path(m as u64, n as u64, leaf_hash(&leaves[m]), &p).unwrap();
                assert_eq!(got, root, "leaf {m} of {n}");
                // Another body, or one altered hash, leads elsewhere.
                let other = root_from_path(m as u64, n as u64, leaf_hash(b"x"), &p).unwrap();
                assert_ne!(other, root);
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = node_hash(first, first);
                    let got = root_from_path(m as u64, n as u64, leaf_hash(&leaves[m]), &bad);
                    assert_ne!(got.unwrap(), root);
                }
            }
        }
    }

    #[test]
    fn path_of_the_wrong_length_is_refused() {
        let leaf = leaf_hash(b"a");
        assert!(root_from_path(0, 2, leaf, &[]).is_err());
        assert!(root_from_path(0, 1, leaf, &[leaf]).is_err());
        assert!(root_from_path(2, 2, leaf, &[leaf]).is_err());
    }
}
