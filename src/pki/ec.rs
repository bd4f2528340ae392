//! NIST curve point validation, as Go's `ecdsa.ParseUncompressedPublicKey`
//! and `elliptic.Unmarshal` do it.
//!
//! Go refuses an ECDSA key whose point is not on its curve or whose
//! coordinates are not reduced, so such a key is a parse error, not an index
//! key. Only the acceptance test is needed (no arithmetic on points), which
//! is one modular equation: y² ≡ x³ − 3x + b (mod p). `num-bigint` does it;
//! pulling in four RustCrypto curve crates for this would be heavier.

use std::sync::OnceLock;

use num_bigint::BigUint;

/// The NIST curves Go supports for ECDSA keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P224,
    P256,
    P384,
    P521,
}

impl Curve {
    /// Bytes per coordinate.
    pub fn coordinate_len(self) -> usize {
        match self {
            Curve::P224 => 28,
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    fn params_hex(self) -> (&'static str, &'static str) {
        match self {
            Curve::P224 => (
                "ffffffffffffffffffffffffffffffff000000000000000000000001",
                "b4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4",
            ),
            Curve::P256 => (
                "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
                "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
            ),
            Curve::P384 => (
                "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
                "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
            ),
            Curve::P521 => (
                "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00",
            ),
        }
    }

    /// p and b, parsed once per process: parsing them per key was a tenth
    /// of the CPU of keying a `hashedrekord` entry.
    fn params(self) -> &'static (BigUint, BigUint) {
        static PARAMS: OnceLock<[(BigUint, BigUint); 4]> = OnceLock::new();
        let all = PARAMS.get_or_init(|| {
            [Curve::P224, Curve::P256, Curve::P384, Curve::P521].map(|curve| {
                let (p, b) = curve.params_hex();
                let parse =
                    |h: &str| BigUint::parse_bytes(h.as_bytes(), 16).expect("curve constant");
                (parse(p), parse(b))
            })
        });
        &all[self as usize]
    }

    /// Whether `encoded` is `0x04 ‖ X ‖ Y` of the right length with both
    /// coordinates below p and the point on the curve.
    pub fn is_valid_uncompressed(self, encoded: &[u8]) -> bool {
        let n = self.coordinate_len();
        if encoded.len() != 1 + 2 * n || encoded[0] != 4 {
            return false;
        }
        let (p, b) = self.params();
        let x = BigUint::from_bytes_be(&encoded[1..1 + n]);
        let y = BigUint::from_bytes_be(&encoded[1 + n..]);
        if &x >= p || &y >= p {
            return false;
        }
        let lhs = (&y * &y) % p;
        // x³ − 3x + b = x·(x² − 3) + b; x² is reduced first and p added
        // before subtracting 3, so the factor stays non-negative and small.
        let x2 = (&x * &x) % p + p - 3u8;
        let rhs = (x2 * &x + b) % p;
        lhs == rhs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The P-256 generator point.
    const G256: &str = "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

    #[test]
    fn accepts_generator_and_rejects_tampered_points() {
        let g = hex::decode(G256).unwrap();
        assert!(Curve::P256.is_valid_uncompressed(&g));
        let mut bad = g.clone();
        bad[64] ^= 1;
        assert!(!Curve::P256.is_valid_uncompressed(&bad));
        assert!(!Curve::P384.is_valid_uncompressed(&g));
        let mut compressed = g[..33].to_vec();
        compressed[0] = 2;
        assert!(!Curve::P256.is_valid_uncompressed(&compressed));
    }

    #[test]
    fn generators_of_all_curves_are_valid() {
        // From `openssl ecparam -param_enc explicit -text`.
        let cases = [
            (Curve::P224, "04b70e0cbd6bb4bf7f321390b94a03c1d356c21122343280d6115c1d21bd376388b5f723fb4c22dfe6cd4375a05a07476444d5819985007e34"),
            (Curve::P384, "04aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"),
            (Curve::P521, "0400c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650"),
        ];
        for (curve, point) in cases {
            let g = hex::decode(point).unwrap();
            assert!(curve.is_valid_uncompressed(&g), "{curve:?}");
            let mut bad = g.clone();
            let last = bad.len() - 1;
            bad[last] ^= 2;
            assert!(!curve.is_valid_uncompressed(&bad), "{curve:?}");
        }
    }
}
