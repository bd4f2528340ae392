//! ECDSA verification through crates, where they beat
//! [`super::weierstrass`].
//!
//! - ring, for P-256 with SHA-256 and P-384 with SHA-384 (what GnuPG and
//!   go-crypto pick for those curves): assembly field arithmetic, several
//!   times faster. ring hashes the message itself and applies the same
//!   rules as Go for these pairs (r, s in [1, n-1]; a digest no longer than
//!   the order, taken whole).
//! - The RustCrypto crates for P-521 (2.1 instead of 2.7 ms per entry) and
//!   secp256k1. Only their point arithmetic is used: the digest-to-integer
//!   rule, the range checks and the final comparison stay Go's (`hashToInt`
//!   and `ecdsa.Verify`), done by the caller, so the verdicts cannot drift
//!   with the crates' prehash rules (which refuse digests shorter than half
//!   the field, where Go accepts them).

use elliptic_curve::{
    group::Group,
    ops::Invert,
    point::AffineCoordinates,
    sec1::{EncodedPoint, FromEncodedPoint, ModulusSize},
    AffinePoint, CurveArithmetic, FieldBytes, FieldBytesSize, PrimeField, ProjectivePoint, Scalar,
};
use num_bigint::BigUint;

/// A curve with a RustCrypto implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accelerated {
    P521,
    Secp256k1,
}

/// What [`Accelerated::verify`] needs, with `e` already cut per Go and
/// `r`, `s` already checked to lie in `[1, n-1]`.
pub struct Check<'a> {
    pub qx: &'a BigUint,
    pub qy: &'a BigUint,
    pub e: &'a BigUint,
    pub r: &'a BigUint,
    pub s: &'a BigUint,
    pub n: &'a BigUint,
}

impl Accelerated {
    /// `x(e·s⁻¹·G + r·s⁻¹·Q) mod n == r`; `None` when a value does not fit
    /// the curve's types (the caller then uses the generic path).
    pub fn verify(self, check: &Check) -> Option<bool> {
        match self {
            Accelerated::P521 => verify_on::<p521::NistP521>(check),
            Accelerated::Secp256k1 => verify_on::<k256::Secp256k1>(check),
        }
    }
}

fn verify_on<C>(check: &Check) -> Option<bool>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromEncodedPoint<C>,
{
    let len = <FieldBytesSize<C> as elliptic_curve::generic_array::typenum::Unsigned>::USIZE;
    let field_bytes = |v: &BigUint| -> Option<FieldBytes<C>> {
        let raw = v.to_bytes_be();
        if raw.len() > len {
            return None;
        }
        let mut bytes = FieldBytes::<C>::default();
        bytes[len - raw.len()..].copy_from_slice(&raw);
        Some(bytes)
    };
    let scalar = |v: &BigUint| -> Option<Scalar<C>> {
        Option::from(Scalar::<C>::from_repr(field_bytes(&(v % check.n))?))
    };
    let point = EncodedPoint::<C>::from_affine_coordinates(
        &field_bytes(check.qx)?,
        &field_bytes(check.qy)?,
        false,
    );
    let q: AffinePoint<C> = Option::from(AffinePoint::<C>::from_encoded_point(&point))?;
    let w: Scalar<C> = Option::from(scalar(check.s)?.invert())?;
    let u1 = scalar(check.e)? * w;
    let u2 = scalar(check.r)? * w;
    let sum = ProjectivePoint::<C>::generator() * u1 + ProjectivePoint::<C>::from(q) * u2;
    if bool::from(sum.is_identity()) {
        return Some(false);
    }
    let x = BigUint::from_bytes_be(&elliptic_curve::group::Curve::to_affine(&sum).x());
    Some(x % check.n == *check.r)
}

/// ring's algorithm for a (curve, hash) pair, as the curve table names it.
pub type RingAlgorithm = &'static ring::signature::EcdsaVerificationAlgorithm;

/// Verifies with ring; `len` is the curve's field size in bytes. A
/// coordinate or `r`/`s` longer than that cannot be below p or n, which Go
/// refuses too.
pub fn ring_verify(
    algorithm: RingAlgorithm,
    len: usize,
    q: (&BigUint, &BigUint),
    message: &[&[u8]],
    r: &BigUint,
    s: &BigUint,
) -> bool {
    let mut point = Vec::with_capacity(1 + 2 * len);
    point.push(4);
    let mut sig = Vec::with_capacity(2 * len);
    if !(push_fixed(&mut point, q.0, len)
        && push_fixed(&mut point, q.1, len)
        && push_fixed(&mut sig, r, len)
        && push_fixed(&mut sig, s, len))
    {
        return false;
    }
    ring::signature::UnparsedPublicKey::new(algorithm, &point)
        .verify(&message.concat(), &sig)
        .is_ok()
}

/// Appends `v` big-endian in exactly `len` bytes; false if it does not fit.
fn push_fixed(out: &mut Vec<u8>, v: &BigUint, len: usize) -> bool {
    let raw = v.to_bytes_be();
    if raw.len() > len {
        return false;
    }
    out.resize(out.len() + len - raw.len(), 0);
    out.extend_from_slice(&raw);
    true
}
