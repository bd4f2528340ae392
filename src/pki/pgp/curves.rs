//! The elliptic curves go-crypto knows (`internal/ecc/curve_info.go`), and
//! ECDSA verification on the short-Weierstrass ones.
//!
//! ECDSA follows Go's rules here (`hashToInt`: any digest length, cut or
//! zero-extended; r, s range checks) for every curve. The point arithmetic
//! is [`super::weierstrass`] (variable-time Montgomery residues) except
//! where a crate is faster ([`super::ecdsa`]): ring for P-256 with SHA-256
//! and P-384 with SHA-384, the RustCrypto crates on P-521 and secp256k1
//! (on P-256 and P-384 those crates were slower than the generic path).
//! The paths are checked against each other in the tests. Only public data
//! is involved, so constant time does not matter.

use std::sync::LazyLock;

use num_bigint::BigUint;
use num_traits::Zero;

use super::ecdsa::{self, Accelerated, Check, RingAlgorithm};
use super::key::Material;
use super::signature::HashAlgo;
use super::weierstrass;

/// A curve `y² = x³ + a·x + b` over GF(p) with base point `g` of order `n`.
#[derive(Debug)]
pub struct Curve {
    /// Shown in `Debug` output and test messages.
    #[allow(dead_code)]
    pub name: &'static str,
    p: BigUint,
    a: BigUint,
    b: BigUint,
    gx: BigUint,
    gy: BigUint,
    n: BigUint,
    bits: usize,
    /// The RustCrypto implementation of this curve, if it is faster.
    accel: Option<Accelerated>,
    /// The hash ring verifies this curve with, if any.
    ring: Option<(HashAlgo, RingAlgorithm)>,
}

fn hex_int(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

impl Curve {
    /// A curve with `a = -3` (NIST).
    /// `params`: p, n, b, and the base point's x and y.
    fn nist(
        name: &'static str,
        accel: Option<Accelerated>,
        bits: usize,
        params: [&str; 5],
    ) -> Curve {
        let [p, n, b, gx, gy] = params;
        let p = hex_int(p);
        let a = &p - BigUint::from(3u32);
        Curve {
            name,
            a,
            b: hex_int(b),
            gx: hex_int(gx),
            gy: hex_int(gy),
            n: hex_int(n),
            bits,
            p,
            accel,
            ring: None,
        }
    }

    /// A Brainpool `r1` curve from the parameters go-crypto uses: the
    /// twisted curve's `p`, `n`, `B`, the `r1` base point and the
    /// isomorphism constant `z` (`x_t = x·z²`, `y_t = y·z³`, so
    /// `a = -3·z⁻⁴` and `b = B·z⁻⁶`).
    fn brainpool(name: &'static str, bits: usize, params: [&str; 6]) -> Curve {
        let [p, n, b_twisted, gx, gy, z] = params.map(hex_int);
        let z_inv = z.modpow(&(&p - BigUint::from(2u32)), &p);
        let z_inv2 = &z_inv * &z_inv % &p;
        let z_inv4 = &z_inv2 * &z_inv2 % &p;
        let z_inv6 = &z_inv4 * &z_inv2 % &p;
        let a = (&p - (BigUint::from(3u32) * z_inv4 % &p)) % &p;
        let b = b_twisted * z_inv6 % &p;
        Curve {
            name,
            p,
            a,
            b,
            gx,
            gy,
            n,
            bits,
            accel: None,
            ring: None,
        }
    }

    fn is_on_curve(&self, x: &BigUint, y: &BigUint) -> bool {
        let p = &self.p;
        let lhs = y * y % p;
        let rhs = (x * x % p * x + &self.a * x + &self.b) % p;
        lhs == rhs
    }

    /// Go `elliptic.Unmarshal`: uncompressed `04 ‖ X ‖ Y`, coordinates
    /// below p, point on the curve.
    pub fn unmarshal(&self, data: &[u8]) -> Option<(BigUint, BigUint)> {
        let len = self.bits.div_ceil(8);
        if data.len() != 1 + 2 * len || data[0] != 4 {
            return None;
        }
        let x = BigUint::from_bytes_be(&data[1..1 + len]);
        let y = BigUint::from_bytes_be(&data[1 + len..]);
        if x >= self.p || y >= self.p || !self.is_on_curve(&x, &y) {
            return None;
        }
        Some((x, y))
    }

    /// [`Curve::verify`] on the digest of `message` made with `algo`
    /// (`hashed`), through ring where it takes the pair.
    pub fn verify_message(
        &self,
        q: (&BigUint, &BigUint),
        algo: HashAlgo,
        message: &[&[u8]],
        hashed: &[u8],
        sig: (&BigUint, &BigUint),
    ) -> bool {
        match self.ring {
            Some((hash, algorithm)) if hash == algo => {
                let len = self.bits.div_ceil(8);
                ecdsa::ring_verify(algorithm, len, q, message, sig.0, sig.1)
            }
            _ => self.verify(q.0, q.1, hashed, sig.0, sig.1),
        }
    }

    /// Go `ecdsa.Verify` (legacy and FIPS paths agree): r, s in [1, n-1],
    /// the digest cut to the order's bit length, `x(u1·G + u2·Q) mod n == r`.
    pub fn verify(
        &self,
        qx: &BigUint,
        qy: &BigUint,
        hash: &[u8],
        r: &BigUint,
        s: &BigUint,
    ) -> bool {
        let n = &self.n;
        if r.is_zero() || s.is_zero() || r >= n || s >= n {
            return false;
        }
        let order_bits = n.bits() as usize;
        let order_bytes = order_bits.div_ceil(8);
        let hash = &hash[..hash.len().min(order_bytes)];
        let mut e = BigUint::from_bytes_be(hash);
        let excess = (hash.len() * 8).saturating_sub(order_bits);
        e >>= excess;
        if let Some(accel) = self.accel {
            let check = Check {
                qx,
                qy,
                e: &e,
                r,
                s,
                n,
            };
            if let Some(verdict) = accel.verify(&check) {
                return verdict;
            }
        }
        self.verify_generic(qx, qy, e, r, s)
    }

    /// The generic path: Brainpool, and the reference for the others.
    fn verify_generic(
        &self,
        qx: &BigUint,
        qy: &BigUint,
        e: BigUint,
        r: &BigUint,
        s: &BigUint,
    ) -> bool {
        weierstrass::ecdsa_verify(&self.params(), (qx, qy), &e, r, s)
    }

    fn params(&self) -> weierstrass::Params<'_> {
        weierstrass::Params {
            p: &self.p,
            a: &self.a,
            n: &self.n,
            g: (&self.gx, &self.gy),
        }
    }
}

static P256: LazyLock<Curve> = LazyLock::new(|| Curve {
    ring: Some((HashAlgo::Sha256, &ring::signature::ECDSA_P256_SHA256_FIXED)),
    ..Curve::nist(
        "P-256",
        None,
        256,
        [
            "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
            "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
            "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
        ],
    )
});

static P384: LazyLock<Curve> = LazyLock::new(|| {
    Curve {
    ring: Some((
        HashAlgo::Sha384,
        &ring::signature::ECDSA_P384_SHA384_FIXED,
    )),
    ..Curve::nist(
        "P-384",
        None,
        384,
        [
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
            "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
            "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
            "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
            "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f",
        ],
    )
}
});

static P521: LazyLock<Curve> = LazyLock::new(|| {
    Curve::nist(
        "P-521",
        Some(Accelerated::P521),
        521,
        [
            "1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
            "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00",
            "00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66",
            "011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650",
        ],
    )
});

static SECP256K1: LazyLock<Curve> = LazyLock::new(|| Curve {
    name: "secp256k1",
    p: hex_int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F"),
    a: BigUint::zero(),
    b: BigUint::from(7u32),
    gx: hex_int("79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798"),
    gy: hex_int("483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8"),
    n: hex_int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141"),
    bits: 256,
    accel: Some(Accelerated::Secp256k1),
    ring: None,
});

static BRAINPOOL_P256: LazyLock<Curve> = LazyLock::new(|| {
    Curve::brainpool(
        "brainpoolP256r1",
        256,
        [
            "A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377",
            "A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7",
            "662C61C430D84EA4FE66A7733D0B76B7BF93EBC4AF2F49256AE58101FEE92B04",
            "8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262",
            "547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997",
            "3E2D4BD9597B58639AE7AA669CAB9837CF5CF20A2C852D10F655668DFC150EF0",
        ],
    )
});

static BRAINPOOL_P384: LazyLock<Curve> = LazyLock::new(|| {
    Curve::brainpool(
        "brainpoolP384r1",
        384,
        [
            "8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123ACD3A729901D1A71874700133107EC53",
            "8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7CF3AB6AF6B7FC3103B883202E9046565",
            "7F519EADA7BDA81BD826DBA647910F8C4B9346ED8CCDC64E4B1ABD11756DCE1D2074AA263B88805CED70355A33B471EE",
            "1D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10E8E826E03436D646AAEF87B2E247D4AF1E",
            "8ABE1D7520F9C2A45CB1EB8E95CFD55262B70B29FEEC5864E19C054FF99129280E4646217791811142820341263C5315",
            "41DFE8DD399331F7166A66076734A89CD0D2BCDB7D068E44E1F378F41ECBAE97D2D63DBC87BCCDDCCC5DA39E8589291C",
        ],
    )
});

static BRAINPOOL_P512: LazyLock<Curve> = LazyLock::new(|| {
    Curve::brainpool(
        "brainpoolP512r1",
        512,
        [
            "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA703308717D4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3",
            "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330870553E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069",
            "7CBBBCF9441CFAB76E1890E46884EAE321F70C0BCB4981527897504BEC3E36A62BCDFA2304976540F6450085F2DAE145C22553B465763689180EA2571867423E",
            "81AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D0098EFF3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F822",
            "7DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F8111B2DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD80892",
            "12EE58E6764838B69782136F0F2D3BA06E27695716054092E60A80BEDB212B64E585D90BCE13761F85C3F1D2A64E3BE8FEA2220F01EBA5EEB0F35DBD29D922AB",
        ],
    )
});

/// One row of go-crypto's curve table.
#[derive(Clone, Copy, Debug)]
pub enum CurveInfo {
    Weierstrass(&'static LazyLock<Curve>),
    /// Curve25519 for ECDH (legacy OID).
    Curve25519,
    X448,
    /// Ed25519 for legacy EdDSA.
    Ed25519,
    Ed448,
}

impl CurveInfo {
    /// The curve as an `ecc.ECDSACurve`.
    pub fn weierstrass(self) -> Option<&'static Curve> {
        match self {
            CurveInfo::Weierstrass(c) => Some(c),
            _ => None,
        }
    }

    /// `ecc.ECDHCurve`: the generic curves, Curve25519 and X448.
    pub fn can_ecdh(self) -> bool {
        !matches!(self, CurveInfo::Ed25519 | CurveInfo::Ed448)
    }

    /// `ecc.EdDSACurve`.
    pub fn can_eddsa(self) -> bool {
        matches!(self, CurveInfo::Ed25519 | CurveInfo::Ed448)
    }

    /// `GenName == "Curve25519"` (shared by the Curve25519 and Ed25519 rows).
    pub fn is_curve25519_legacy(self) -> bool {
        matches!(self, CurveInfo::Curve25519 | CurveInfo::Ed25519)
    }

    /// `ecdh.PublicKey.UnmarshalPoint`: generic curves take any bytes, the
    /// Montgomery curves need a prefix byte and the native length.
    pub fn ecdh_point_ok(self, point: &[u8]) -> bool {
        match self {
            CurveInfo::Curve25519 => point.len() == 33,
            CurveInfo::X448 => point.len() == 57,
            _ => true,
        }
    }

    /// `eddsa.PublicKey.UnmarshalPoint` (prefix byte already checked).
    pub fn eddsa_material(self, point: &[u8]) -> Option<Material> {
        match self {
            CurveInfo::Ed25519 if point.len() == 33 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&point[1..]);
                Some(Material::EdDsa25519(key))
            }
            CurveInfo::Ed448 if point.len() == 58 => Some(Material::Ed448),
            _ => None,
        }
    }
}

/// go-crypto `ecc.FindByOid`.
pub fn by_oid(oid: &[u8]) -> Option<CurveInfo> {
    Some(match oid {
        [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07] => CurveInfo::Weierstrass(&P256),
        [0x2B, 0x81, 0x04, 0x00, 0x22] => CurveInfo::Weierstrass(&P384),
        [0x2B, 0x81, 0x04, 0x00, 0x23] => CurveInfo::Weierstrass(&P521),
        [0x2B, 0x81, 0x04, 0x00, 0x0A] => CurveInfo::Weierstrass(&SECP256K1),
        [0x2B, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01] => CurveInfo::Curve25519,
        [0x2B, 0x65, 0x6F] => CurveInfo::X448,
        [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01] => CurveInfo::Ed25519,
        [0x2B, 0x65, 0x71] => CurveInfo::Ed448,
        [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07] => {
            CurveInfo::Weierstrass(&BRAINPOOL_P256)
        }
        [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0B] => {
            CurveInfo::Weierstrass(&BRAINPOOL_P384)
        }
        [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0D] => {
            CurveInfo::Weierstrass(&BRAINPOOL_P512)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Curve {
        fn mul(&self, pt: &(BigUint, BigUint), k: &BigUint) -> Option<(BigUint, BigUint)> {
            weierstrass::mul(&self.params(), (&pt.0, &pt.1), k)
        }
    }

    fn all() -> [&'static Curve; 7] {
        [
            &P256,
            &P384,
            &P521,
            &SECP256K1,
            &BRAINPOOL_P256,
            &BRAINPOOL_P384,
            &BRAINPOOL_P512,
        ]
    }

    #[test]
    fn base_points_are_on_their_curves_and_have_order_n() {
        for c in all() {
            assert!(c.is_on_curve(&c.gx, &c.gy), "{}", c.name);
            let g = (c.gx.clone(), c.gy.clone());
            assert!(c.mul(&g, &c.n).is_none(), "{}", c.name);
            let (x, y) = c.mul(&g, &(&c.n - 1u32)).unwrap();
            assert_eq!(x, c.gx, "{}", c.name);
            assert_eq!(y, (&c.p - &c.gy) % &c.p, "{}", c.name);
        }
    }

    #[test]
    fn brainpool_p256r1_coefficients_match_rfc5639() {
        assert_eq!(
            BRAINPOOL_P256.a,
            hex_int("7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9")
        );
        assert_eq!(
            BRAINPOOL_P256.b,
            hex_int("26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6")
        );
    }

    #[test]
    fn ecdsa_verifies_a_signature_made_with_a_known_key() {
        // d = 7, k = 11; r = x(kG) mod n, s = k⁻¹(e + r·d) mod n.
        for c in all() {
            let g = (c.gx.clone(), c.gy.clone());
            let d = BigUint::from(7u32);
            let (qx, qy) = c.mul(&g, &d).unwrap();
            let hash = [0xabu8; 32];
            let e = BigUint::from_bytes_be(&hash);
            let k = BigUint::from(11u32);
            let r = c.mul(&g, &k).unwrap().0 % &c.n;
            let k_inv = k.modpow(&(&c.n - 2u32), &c.n);
            let s = k_inv * (e + &r * &d) % &c.n;
            assert!(c.verify(&qx, &qy, &hash, &r, &s), "{}", c.name);
            assert!(!c.verify(&qx, &qy, &[0xac; 32], &r, &s), "{}", c.name);
            assert!(!c.verify(&qx, &qy, &hash, &(&r + &c.n), &s), "{}", c.name);
            assert!(
                !c.verify(&qx, &qy, &hash, &BigUint::zero(), &s),
                "{}",
                c.name
            );
            assert!(!c.verify(&qy, &qx, &hash, &r, &s), "{}", c.name);
            if c.n.bits() <= 256 {
                // A longer digest is cut to the order's length: same verdict.
                let mut long = hash.to_vec();
                long.extend_from_slice(&[1; 32]);
                assert!(c.verify(&qx, &qy, &long, &r, &s), "{}", c.name);
            }
        }
    }

    /// The RustCrypto path and the generic path give the same verdict
    /// on every accelerated curve, for digests shorter than, equal to and
    /// longer than the order, on valid and on altered signatures.
    #[test]
    fn accelerated_and_generic_paths_agree() {
        for c in [&*P521, &*SECP256K1] {
            assert!(c.accel.is_some(), "{}", c.name);
            let g = (c.gx.clone(), c.gy.clone());
            for (i, len) in [20usize, 32, 48, 64].into_iter().enumerate() {
                let d = BigUint::from(0x1234_5678u64 + i as u64) * &c.gx % &c.n;
                let k = BigUint::from(0x9abc_def0u64 + i as u64) * &c.gy % &c.n;
                let (qx, qy) = c.mul(&g, &d).unwrap();
                let hash: Vec<u8> = (0..len).map(|b| (b * 37 + i) as u8 | 0x80).collect();
                let order_bits = c.n.bits() as usize;
                let cut = &hash[..len.min(order_bits.div_ceil(8))];
                let e = BigUint::from_bytes_be(cut) >> (cut.len() * 8).saturating_sub(order_bits);
                let r = c.mul(&g, &k).unwrap().0 % &c.n;
                let s = k.modpow(&(&c.n - 2u32), &c.n) * (&e + &r * &d) % &c.n;
                let generic = |hash: &[u8], r: &BigUint, s: &BigUint| {
                    let cut = &hash[..hash.len().min(order_bits.div_ceil(8))];
                    let e =
                        BigUint::from_bytes_be(cut) >> (cut.len() * 8).saturating_sub(order_bits);
                    c.verify_generic(&qx, &qy, e, r, s)
                };
                let check = Check {
                    qx: &qx,
                    qy: &qy,
                    e: &e,
                    r: &r,
                    s: &s,
                    n: &c.n,
                };
                // The crate path answers itself (no silent fallback).
                assert_eq!(c.accel.unwrap().verify(&check), Some(true), "{}", c.name);
                assert!(c.verify(&qx, &qy, &hash, &r, &s), "{} len {len}", c.name);
                assert!(generic(&hash, &r, &s), "{} len {len}", c.name);
                let mut other = hash.clone();
                other[0] ^= 1;
                let s2 = (&s + 1u32) % &c.n;
                for (h, r, s) in [(&other, &r, &s), (&hash, &r, &s2), (&hash, &s, &r)] {
                    assert!(!c.verify(&qx, &qy, h, r, s), "{} len {len}", c.name);
                    assert!(!generic(h, r, s), "{} len {len}", c.name);
                }
            }
        }
    }

    /// ring's path (P-256/SHA-256, P-384/SHA-384) accepts what the generic
    /// path signs and refuses what Go refuses: another message, r + n, a
    /// swapped r and s.
    #[test]
    fn ring_path_agrees_with_the_generic_path() {
        use sha2::{Digest, Sha256, Sha384};
        let message: [&[u8]; 3] = [b"", b"key material", b"trailer"];
        for (c, algo) in [(&*P256, HashAlgo::Sha256), (&*P384, HashAlgo::Sha384)] {
            let hashed = match algo {
                HashAlgo::Sha256 => Sha256::digest(message.concat()).to_vec(),
                _ => Sha384::digest(message.concat()).to_vec(),
            };
            let g = (c.gx.clone(), c.gy.clone());
            let d = BigUint::from_bytes_be(b"a private scalar") % &c.n;
            let k = BigUint::from_bytes_be(b"a nonce, not random") % &c.n;
            let (qx, qy) = c.mul(&g, &d).unwrap();
            let r = c.mul(&g, &k).unwrap().0 % &c.n;
            let e = BigUint::from_bytes_be(&hashed);
            let s = k.modpow(&(&c.n - 2u32), &c.n) * (e + &r * &d) % &c.n;
            let (ring_hash, algorithm) = c.ring.unwrap();
            assert_eq!(ring_hash, algo);
            let len = c.bits.div_ceil(8);
            assert!(
                ecdsa::ring_verify(algorithm, len, (&qx, &qy), &message, &r, &s),
                "{}",
                c.name
            );
            assert!(c.verify(&qx, &qy, &hashed, &r, &s), "{}", c.name);
            assert!(c.verify_message((&qx, &qy), algo, &message, &hashed, (&r, &s)));
            let other: [&[u8]; 3] = [b"", b"key material", b"trailed"];
            let r_plus_n = &r + &c.n;
            for (m, r, s) in [
                (&other, &r, &s),
                (&message, &r_plus_n, &s),
                (&message, &s, &r),
            ] {
                assert!(
                    !ecdsa::ring_verify(algorithm, len, (&qx, &qy), m, r, s),
                    "{}",
                    c.name
                );
            }
        }
    }

    #[test]
    fn unmarshal_checks_form_range_and_curve() {
        let c: &Curve = &P256;
        let mut point = vec![4];
        point.extend_from_slice(&c.gx.to_bytes_be());
        point.extend_from_slice(&c.gy.to_bytes_be());
        assert!(c.unmarshal(&point).is_some());
        point[0] = 2;
        assert!(c.unmarshal(&point).is_none());
        point[0] = 4;
        let last = point.len() - 1;
        point[last] ^= 1;
        assert!(c.unmarshal(&point).is_none());
        assert!(c.unmarshal(&point[..64]).is_none());
    }

    #[test]
    fn oid_table() {
        assert!(by_oid(&[0x2B, 0x81, 0x04, 0x00, 0x22])
            .unwrap()
            .weierstrass()
            .is_some());
        assert!(by_oid(&[0x2B, 0x65, 0x71]).unwrap().can_eddsa());
        assert!(!by_oid(&[0x2B, 0x65, 0x71]).unwrap().can_ecdh());
        assert!(
            by_oid(&[0x2B, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01])
                .unwrap()
                .is_curve25519_legacy()
        );
        assert!(by_oid(&[1, 2, 3]).is_none());
    }
}
