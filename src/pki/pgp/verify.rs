//! Signature verification with go-crypto's rules (`PublicKey.VerifySignature`
//! and the Go `crypto` primitives under it).
//!
//! Whether a self-signature verifies decides whether a user ID, a subkey or
//! the whole key survives parsing, so the verdicts must be Go's, including
//! its refusals: RSA moduli under 1024 bits (Go 1.24+ `rsa1024min`), even
//! exponents, DSA subgroups whose size is not a whole number of bytes.
//! The checks are Go's, in Go's order (a library would add or drop some);
//! the arithmetic under them is `ring`'s for RSA where it takes the
//! parameters, `num-bigint`'s for the rest of RSA and for DSA, and ECDSA's
//! is in [`super::curves`]; Ed25519 is `ed25519-dalek`'s, whose cofactorless `verify` matches Go's
//! `ed25519.Verify`. Ed448 signatures are not checked and count as valid: no
//! maintained pure-Rust Ed448 verifier exists, and a stored Ed448 key was
//! accepted by the log when it was uploaded.

use num_bigint::BigUint;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use sha3::{Sha3_256, Sha3_512};

use super::key::{KeyPacket, Material, ALGO_RSA, ALGO_RSA_SIGN_ONLY};
use super::packet::Error;
use super::signature::{HashAlgo, SigValue, Signature};

/// Signature verifications one key (all its blocks and entities) may need.
///
/// go-crypto verifies every self-signature, binding and revocation it
/// reads, however many there are; each costs up to a few ms here (DSA,
/// Brainpool, 16,384-bit RSA), so a key made of many small entities could
/// keep one entry busy for minutes. Real keys need a few per user ID and
/// subkey; past this many the key is refused with an error instead.
pub const MAX_SIGNATURE_CHECKS: usize = 1024;

/// What is left of [`MAX_SIGNATURE_CHECKS`] while one key is read.
#[derive(Debug, Default)]
pub struct Budget {
    used: usize,
}

impl Budget {
    /// Accounts for `n` verifications about to be made; an error once the
    /// key would need more than [`MAX_SIGNATURE_CHECKS`].
    pub fn spend(&mut self, n: usize) -> Result<(), Error> {
        self.used += n;
        if self.used > MAX_SIGNATURE_CHECKS {
            return Err(Error::Fatal(format!(
                "key needs more than {MAX_SIGNATURE_CHECKS} signature verifications"
            )));
        }
        Ok(())
    }

    /// Verifications accounted for so far.
    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.used
    }
}

/// Why a signature did not verify (the message goes into a structural
/// error, as in go-crypto).
pub type Failure = String;

pub fn digest(algo: HashAlgo, parts: &[&[u8]]) -> Vec<u8> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut h = D::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().to_vec()
    }
    match algo {
        HashAlgo::Sha1 => run::<Sha1>(parts),
        HashAlgo::Sha224 => run::<Sha224>(parts),
        HashAlgo::Sha256 => run::<Sha256>(parts),
        HashAlgo::Sha384 => run::<Sha384>(parts),
        HashAlgo::Sha512 => run::<Sha512>(parts),
        HashAlgo::Sha3_256 => run::<Sha3_256>(parts),
        HashAlgo::Sha3_512 => run::<Sha3_512>(parts),
    }
}

/// go-crypto `PrepareVerify` + `VerifySignature`: does `sig`, made by
/// `key`, sign `data` (the key/user-ID material before the trailer)?
pub fn verify(key: &KeyPacket, data: &[u8], sig: &Signature) -> Result<(), Failure> {
    if !key.can_sign() {
        return Err("public key cannot generate signatures".into());
    }
    let suffix = sig.hash_suffix();
    let message: [&[u8]; 3] = [&sig.salt, data, &suffix];
    let hashed = digest(sig.hash, &message);
    if sig.version >= 5 && hashed[..2] != sig.hash_tag() {
        return Err("hash tag doesn't match".into());
    }
    if key.algorithm != sig.algorithm {
        return Err("public key and signature use different algorithms".into());
    }
    let ok = match (&key.material, &sig.value) {
        (Material::Rsa { n, e }, SigValue::Rsa(s))
            if matches!(key.algorithm, ALGO_RSA | ALGO_RSA_SIGN_ONLY) =>
        {
            rsa_pkcs1v15(n, *e, sig.hash, &message, &hashed, s)
        }
        (Material::Dsa { p, q, g, y }, SigValue::Pair(r, s)) => {
            let size = (q.bits() as usize).div_ceil(8);
            dsa(p, q, g, y, &hashed[..hashed.len().min(size)], r, s)
        }
        (Material::Ecdsa { curve, x, y }, SigValue::Pair(r, s)) => {
            curve.verify_message((x, y), sig.hash, &message, &hashed, (r, s))
        }
        (Material::EdDsa25519(pk), SigValue::EdDsa(r, s)) => {
            if r.len() > 32 || s.len() > 32 {
                false
            } else {
                let mut raw = [0u8; 64];
                raw[32 - r.len()..32].copy_from_slice(r);
                raw[64 - s.len()..].copy_from_slice(s);
                ed25519(pk, &hashed, &raw)
            }
        }
        (Material::Ed25519(pk), SigValue::Native(s)) => {
            <[u8; 64]>::try_from(s.as_slice()).is_ok_and(|raw| ed25519(pk, &hashed, &raw))
        }
        (Material::Ed448, SigValue::Native(_)) => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("signature verification failure".into())
    }
}

/// DER `DigestInfo` prefixes (Go `crypto/internal/fips140/rsa`).
fn digest_info_prefix(algo: HashAlgo) -> &'static [u8] {
    match algo {
        HashAlgo::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        HashAlgo::Sha224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x04, 0x05, 0x00, 0x04, 0x1c,
        ],
        HashAlgo::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlgo::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlgo::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        HashAlgo::Sha3_256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x08, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlgo::Sha3_512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x0a, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

/// Go `rsa.VerifyPKCS1v15` after go-crypto's `padToKeySize`; `message`
/// is what `hashed` is the digest of.
///
/// The public-key operation is ring's where ring takes the parameters
/// (PKCS #1 v1.5 with SHA-1, SHA-256 or SHA-512 and a 1024–8192-bit
/// modulus, SHA-384 from 3072 bits): it is about ten times faster than
/// `num-bigint`, which did most of the work of keying a PGP entry. Both
/// paths apply Go's checks first and compare the whole encoded message.
fn rsa_pkcs1v15(
    n: &BigUint,
    e: u32,
    algo: HashAlgo,
    message: &[&[u8]],
    hashed: &[u8],
    sig: &[u8],
) -> bool {
    let bits = n.bits() as usize;
    // checkPublicKeySize (rsa1024min) and fips checkPublicKey.
    if bits < 1024 || !n.bit(0) || e < 2 || e & 1 == 0 || e > (1 << 31) - 1 {
        return false;
    }
    let k = bits.div_ceil(8);
    let mut padded = vec![0u8; k.saturating_sub(sig.len())];
    padded.extend_from_slice(sig);
    if padded.len() != k {
        return false;
    }
    if let Some(params) = ring_params(algo, bits) {
        let e_bytes = e.to_be_bytes();
        let leading = e_bytes.iter().take_while(|&&b| b == 0).count();
        let n_bytes = n.to_bytes_be();
        let key = ring::signature::RsaPublicKeyComponents {
            n: &n_bytes[..],
            e: &e_bytes[leading..],
        };
        return key.verify(params, &message.concat(), &padded).is_ok();
    }
    rsa_pkcs1v15_bigint(n, e, algo, hashed, &padded)
}

/// ring's verification parameters for a hash and modulus size, if it has
/// them.
fn ring_params(algo: HashAlgo, bits: usize) -> Option<&'static ring::signature::RsaParameters> {
    use ring::signature as rs;
    if !(1024..=8192).contains(&bits) {
        return None;
    }
    match algo {
        HashAlgo::Sha1 => Some(&rs::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY),
        HashAlgo::Sha256 => Some(&rs::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY),
        HashAlgo::Sha512 => Some(&rs::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY),
        HashAlgo::Sha384 if bits >= 3072 => Some(&rs::RSA_PKCS1_3072_8192_SHA384),
        _ => None,
    }
}

/// The PKCS #1 v1.5 check with `num-bigint`, for what ring does not take;
/// `padded` is the signature at the modulus size, the key already checked.
fn rsa_pkcs1v15_bigint(n: &BigUint, e: u32, algo: HashAlgo, hashed: &[u8], padded: &[u8]) -> bool {
    let k = padded.len();
    let s = BigUint::from_bytes_be(padded);
    if s >= *n {
        return false;
    }
    let m = s.modpow(&BigUint::from(e), n).to_bytes_be();
    let prefix = digest_info_prefix(algo);
    if k < prefix.len() + hashed.len() + 11 {
        return false;
    }
    let mut expected = vec![0u8; k];
    expected[1] = 1;
    let t = k - prefix.len() - hashed.len();
    expected[2..t - 1].fill(0xff);
    expected[t..t + prefix.len()].copy_from_slice(prefix);
    expected[t + prefix.len()..].copy_from_slice(hashed);
    // `m` has no leading zeros; `expected` starts with one.
    expected[k - m.len()..] == m[..] && expected[..k - m.len()].iter().all(|&b| b == 0)
}

/// Go `dsa.Verify` (the digest already cut to the subgroup size).
fn dsa(
    p: &BigUint,
    q: &BigUint,
    g: &BigUint,
    y: &BigUint,
    hashed: &[u8],
    r: &BigUint,
    s: &BigUint,
) -> bool {
    let zero = BigUint::ZERO;
    if *p == zero || *r == zero || r >= q || *s == zero || s >= q {
        return false;
    }
    let Some(w) = mod_inverse(s, q) else {
        return false;
    };
    if q.bits() % 8 != 0 {
        return false;
    }
    let z = BigUint::from_bytes_be(hashed);
    let u1 = z * &w % q;
    let u2 = r * &w % q;
    let v = g.modpow(&u1, p) * y.modpow(&u2, p) % p % q;
    v == *r
}

/// Go `big.Int.ModInverse` for positive arguments: `None` when not coprime.
fn mod_inverse(a: &BigUint, m: &BigUint) -> Option<BigUint> {
    use num_bigint::BigInt;
    let (mut old_r, mut r) = (BigInt::from(a.clone()), BigInt::from(m.clone()));
    let (mut old_s, mut s) = (BigInt::from(1), BigInt::from(0));
    while r != BigInt::ZERO {
        let quotient = &old_r / &r;
        let next_r = &old_r - &quotient * &r;
        old_r = std::mem::replace(&mut r, next_r);
        let next_s = &old_s - &quotient * &s;
        old_s = std::mem::replace(&mut s, next_s);
    }
    if old_r != BigInt::from(1) {
        return None;
    }
    let m = BigInt::from(m.clone());
    ((old_s % &m + &m) % &m).to_biguint()
}

/// Go `ed25519.Verify`.
fn ed25519(public: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
    use ed25519_dalek::Verifier;
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public) else {
        return false;
    };
    key.verify(message, &ed25519_dalek::Signature::from_bytes(sig))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mod_inverse_matches_definition() {
        let m = BigUint::from(97u32);
        for a in 1u32..97 {
            let inv = mod_inverse(&BigUint::from(a), &m).unwrap();
            assert_eq!(BigUint::from(a) * inv % &m, BigUint::from(1u32));
        }
        assert!(mod_inverse(&BigUint::from(6u32), &BigUint::from(9u32)).is_none());
    }

    /// A PKCS #1 v1.5 signature of `message` made with the private
    /// exponent `d` (no padding to the modulus size).
    fn sign(n: &BigUint, d: &BigUint, algo: HashAlgo, message: &[u8]) -> Vec<u8> {
        let hashed = digest(algo, &[message]);
        let k = (n.bits() as usize).div_ceil(8);
        let prefix = digest_info_prefix(algo);
        let mut em = vec![0u8; k];
        em[1] = 1;
        let t = k - prefix.len() - hashed.len();
        em[2..t - 1].fill(0xff);
        em[t..t + prefix.len()].copy_from_slice(prefix);
        em[t + prefix.len()..].copy_from_slice(&hashed);
        BigUint::from_bytes_be(&em).modpow(d, n).to_bytes_be()
    }

    /// Both RSA paths (ring and `num-bigint`) against signatures made here
    /// with a key of known factors: p = 2^521 - 1 and q = 2^607 - 1
    /// (Mersenne primes), so n has 1128 bits.
    #[test]
    fn rsa_pkcs1v15_accepts_own_signature_and_rejects_small_keys() {
        let one = BigUint::from(1u32);
        let p = (BigUint::from(1u32) << 521) - &one;
        let q = (BigUint::from(1u32) << 607) - &one;
        let n: BigUint = &p * &q;
        let e = 65537u32;
        let phi = (&p - &one) * (&q - &one);
        let d = mod_inverse(&BigUint::from(e), &phi).unwrap();
        let k = (n.bits() as usize).div_ceil(8);
        let verify = |algo: HashAlgo, message: &[u8], sig: &[u8], n: &BigUint, e: u32| {
            let hashed = digest(algo, &[message]);
            let fast = rsa_pkcs1v15(n, e, algo, &[message], &hashed, sig);
            let mut padded = vec![0u8; k.saturating_sub(sig.len())];
            padded.extend_from_slice(sig);
            let slow = padded.len() == k && rsa_pkcs1v15_bigint(n, e, algo, &hashed, &padded);
            if n.bits() >= 1024 && e % 2 == 1 {
                assert_eq!(fast, slow, "ring and num-bigint disagree");
            }
            fast
        };
        for algo in [
            HashAlgo::Sha1,
            HashAlgo::Sha256,
            HashAlgo::Sha512,
            HashAlgo::Sha224,
        ] {
            let sig = sign(&n, &d, algo, b"abc");
            assert!(verify(algo, b"abc", &sig, &n, e));
            assert!(!verify(algo, b"abd", &sig, &n, e));
            for i in (0..sig.len()).step_by(13) {
                let mut bad = sig.clone();
                bad[i] ^= 0x40;
                assert!(!verify(algo, b"abc", &bad, &n, e));
            }
        }
        // SHA-384 with a modulus under 3072 bits goes to num-bigint.
        assert!(ring_params(HashAlgo::Sha384, 1128).is_none());
        let sig = sign(&n, &d, HashAlgo::Sha384, b"abc");
        assert!(verify(HashAlgo::Sha384, b"abc", &sig, &n, e));
        let sig = sign(&n, &d, HashAlgo::Sha256, b"abc");
        assert!(!verify(HashAlgo::Sha512, b"abc", &sig, &n, e));
        assert!(!verify(HashAlgo::Sha256, b"abc", &sig, &n, 4));
        // A signature of the modulus or above, or longer than it.
        assert!(!verify(HashAlgo::Sha256, b"abc", &n.to_bytes_be(), &n, e));
        assert!(!verify(
            HashAlgo::Sha256,
            b"abc",
            &[&[0u8][..], &sig].concat(),
            &n,
            e
        ));
        // A modulus under 1024 bits is refused outright.
        let small = (BigUint::from(1u32) << 607) - &one;
        assert!(!verify(HashAlgo::Sha256, b"abc", &sig, &small, e));
    }

    #[test]
    fn dsa_rejects_out_of_range_values() {
        let p = BigUint::from(23u32);
        let q = BigUint::from(11u32);
        let g = BigUint::from(4u32);
        let y = BigUint::from(8u32);
        // q has 4 bits: not a whole number of bytes, so Go refuses.
        assert!(!dsa(
            &p,
            &q,
            &g,
            &y,
            &[1],
            &BigUint::from(3u32),
            &BigUint::from(2u32)
        ));
        assert!(!dsa(
            &p,
            &q,
            &g,
            &y,
            &[1],
            &BigUint::ZERO,
            &BigUint::from(2u32)
        ));
        assert!(!dsa(&p, &q, &g, &y, &[1], &q, &BigUint::from(2u32)));
    }

    #[test]
    fn ed25519_rfc8032_test_vector_1() {
        let public: [u8; 32] =
            hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap()
                .try_into()
                .unwrap();
        let sig: [u8; 64] = hex::decode(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        )
        .unwrap()
        .try_into()
        .unwrap();
        assert!(ed25519(&public, b"", &sig));
        assert!(!ed25519(&public, b"x", &sig));
    }
}
