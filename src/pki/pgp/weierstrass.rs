//! Short-Weierstrass point arithmetic in Montgomery form, for the curves no
//! maintained crate has arithmetic for (Brainpool), and as the reference the
//! crate-backed curves are tested against.
//!
//! Field elements are `crypto-bigint` residues with a limb count fixed per
//! curve size: no allocation and no division per operation, which made the
//! `num-bigint` version cost 1.6 to 6 ms per Brainpool signature. Only public
//! data is involved; variable time is fine.

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::Uint;
use num_bigint::BigUint;

/// A curve `y² = x³ + a·x + b` over GF(p) with base point `g` of order `n`
/// (`b` is not needed for the arithmetic).
pub struct Params<'a> {
    pub p: &'a BigUint,
    pub a: &'a BigUint,
    pub n: &'a BigUint,
    pub g: (&'a BigUint, &'a BigUint),
}

/// ECDSA's final step, `x(e/s·G + r/s·Q) mod n == r`, for `r`, `s` in
/// `[1, n-1]`, `e` already cut to the order's length and `Q` on the curve.
pub fn ecdsa_verify(
    curve: &Params,
    q: (&BigUint, &BigUint),
    e: &BigUint,
    r: &BigUint,
    s: &BigUint,
) -> bool {
    fn run<const L: usize>(
        curve: &Params,
        q: (&BigUint, &BigUint),
        e: &BigUint,
        r: &BigUint,
        s: &BigUint,
    ) -> bool {
        Arith::<L>::new(curve)
            .and_then(|arith| arith.ecdsa_verify(curve, q, e, r, s))
            .unwrap_or(false)
    }
    let e = e % curve.n;
    match limbs(curve.p) {
        4 => run::<4>(curve, q, &e, r, s),
        6 => run::<6>(curve, q, &e, r, s),
        8 => run::<8>(curve, q, &e, r, s),
        9 => run::<9>(curve, q, &e, r, s),
        _ => false,
    }
}

/// `k·(x, y)` in affine coordinates, `None` for the point at infinity
/// (tests: making keys and signatures, checking base point orders).
#[cfg(test)]
pub fn mul(curve: &Params, pt: (&BigUint, &BigUint), k: &BigUint) -> Option<(BigUint, BigUint)> {
    fn run<const L: usize>(
        curve: &Params,
        pt: (&BigUint, &BigUint),
        k: &BigUint,
    ) -> Option<(BigUint, BigUint)> {
        let arith = Arith::<L>::new(curve)?;
        let pt = arith.affine(pt)?;
        let mut acc = Jacobian::infinity(arith.p);
        for i in (0..k.bits()).rev() {
            acc = arith.double(&acc);
            if k.bit(i) {
                acc = arith.add_mixed(&acc, &pt);
            }
        }
        arith.to_affine(&acc)
    }
    match limbs(curve.p) {
        4 => run::<4>(curve, pt, k),
        6 => run::<6>(curve, pt, k),
        8 => run::<8>(curve, pt, k),
        9 => run::<9>(curve, pt, k),
        _ => None,
    }
}

fn limbs(p: &BigUint) -> usize {
    (p.bits() as usize).div_ceil(64)
}

fn uint<const L: usize>(v: &BigUint) -> Option<Uint<L>> {
    let raw = v.to_bytes_be();
    let len = Uint::<L>::BYTES;
    if raw.len() > len {
        return None;
    }
    let mut bytes = vec![0u8; len];
    bytes[len - raw.len()..].copy_from_slice(&raw);
    Some(Uint::from_be_slice(&bytes))
}

fn big<const L: usize>(v: &Uint<L>) -> BigUint {
    let bytes: Vec<u8> = v.as_words().iter().flat_map(|w| w.to_le_bytes()).collect();
    BigUint::from_bytes_le(&bytes)
}

type Affine<const L: usize> = (DynResidue<L>, DynResidue<L>);

/// A point in Jacobian coordinates; `z = 0` is the point at infinity.
#[derive(Clone, Copy)]
struct Jacobian<const L: usize> {
    x: DynResidue<L>,
    y: DynResidue<L>,
    z: DynResidue<L>,
}

impl<const L: usize> Jacobian<L> {
    fn infinity(p: DynResidueParams<L>) -> Self {
        Jacobian {
            x: DynResidue::one(p),
            y: DynResidue::one(p),
            z: DynResidue::zero(p),
        }
    }

    fn from_affine(pt: &Affine<L>) -> Self {
        Jacobian {
            x: pt.0,
            y: pt.1,
            z: DynResidue::one(*pt.0.params()),
        }
    }

    fn is_infinity(&self) -> bool {
        is_zero(&self.z)
    }
}

fn is_zero<const L: usize>(v: &DynResidue<L>) -> bool {
    // Zero is zero in Montgomery form too.
    *v.as_montgomery() == Uint::ZERO
}

struct Arith<const L: usize> {
    p: DynResidueParams<L>,
    a: DynResidue<L>,
    n: DynResidueParams<L>,
}

impl<const L: usize> Arith<L> {
    fn new(curve: &Params) -> Option<Self> {
        let p = DynResidueParams::new(&uint::<L>(curve.p)?);
        Some(Arith {
            p,
            a: DynResidue::new(&uint::<L>(curve.a)?, p),
            n: DynResidueParams::new(&uint::<L>(curve.n)?),
        })
    }

    fn affine(&self, pt: (&BigUint, &BigUint)) -> Option<Affine<L>> {
        Some((
            DynResidue::new(&uint::<L>(pt.0)?, self.p),
            DynResidue::new(&uint::<L>(pt.1)?, self.p),
        ))
    }

    fn ecdsa_verify(
        &self,
        curve: &Params,
        q: (&BigUint, &BigUint),
        e: &BigUint,
        r: &BigUint,
        s: &BigUint,
    ) -> Option<bool> {
        let scalar = |v: &BigUint| uint::<L>(v).map(|v| DynResidue::new(&v, self.n));
        // n is prime and 0 < s < n: the inverse exists.
        let (w, _) = scalar(s)?.invert();
        let u1 = (scalar(e)? * w).retrieve();
        let u2 = (scalar(r)? * w).retrieve();
        let sum = self.shamir(&self.affine(curve.g)?, &u1, &self.affine(q)?, &u2);
        let (x, _) = self.to_affine(&sum)?;
        Some(x % curve.n == *r)
    }

    /// `u1·G + u2·Q` with one shared doubling chain (Shamir's trick) and
    /// mixed additions of the affine points G, Q and G + Q.
    fn shamir(&self, g: &Affine<L>, u1: &Uint<L>, q: &Affine<L>, u2: &Uint<L>) -> Jacobian<L> {
        let g_plus_q = self.to_affine_residues(&self.add_mixed(&Jacobian::from_affine(g), q));
        let mut acc = Jacobian::infinity(self.p);
        let top = u1.bits_vartime().max(u2.bits_vartime());
        for i in (0..top).rev() {
            acc = self.double(&acc);
            let point = match (u1.bit_vartime(i), u2.bit_vartime(i)) {
                (true, true) => match &g_plus_q {
                    Some(sum) => sum,
                    // G + Q is the point at infinity: the two cancel.
                    None => continue,
                },
                (true, false) => g,
                (false, true) => q,
                (false, false) => continue,
            };
            acc = self.add_mixed(&acc, point);
        }
        acc
    }

    fn double(&self, pt: &Jacobian<L>) -> Jacobian<L> {
        if pt.is_infinity() || is_zero(&pt.y) {
            return Jacobian::infinity(self.p);
        }
        let xx = pt.x.square();
        let yy = pt.y.square();
        let yyyy = yy.square();
        let zz = pt.z.square();
        let xyy = pt.x * yy;
        let s = xyy + xyy + xyy + xyy;
        let m = xx + xx + xx + self.a * zz.square();
        let x3 = m.square() - (s + s);
        let yyyy8 = {
            let two = yyyy + yyyy;
            let four = two + two;
            four + four
        };
        let y3 = m * (s - x3) - yyyy8;
        let yz = pt.y * pt.z;
        Jacobian {
            x: x3,
            y: y3,
            z: yz + yz,
        }
    }

    /// `a + (x, y)` for an affine second point (Z = 1).
    fn add_mixed(&self, a: &Jacobian<L>, b: &Affine<L>) -> Jacobian<L> {
        if a.is_infinity() {
            return Jacobian::from_affine(b);
        }
        let z1z1 = a.z.square();
        let u2 = b.0 * z1z1;
        let s2 = b.1 * a.z * z1z1;
        if a.x == u2 {
            return if a.y == s2 {
                self.double(a)
            } else {
                Jacobian::infinity(self.p)
            };
        }
        let h = u2 - a.x;
        let r = s2 - a.y;
        let h2 = h.square();
        let h3 = h * h2;
        let u1h2 = a.x * h2;
        let x3 = r.square() - h3 - (u1h2 + u1h2);
        let y3 = r * (u1h2 - x3) - a.y * h3;
        Jacobian {
            x: x3,
            y: y3,
            z: h * a.z,
        }
    }

    fn to_affine_residues(&self, pt: &Jacobian<L>) -> Option<Affine<L>> {
        if pt.is_infinity() {
            return None;
        }
        // p is prime and z ≠ 0: the inverse exists.
        let (z_inv, _) = pt.z.invert();
        let z_inv2 = z_inv.square();
        Some((pt.x * z_inv2, pt.y * z_inv2 * z_inv))
    }

    fn to_affine(&self, pt: &Jacobian<L>) -> Option<(BigUint, BigUint)> {
        let (x, y) = self.to_affine_residues(pt)?;
        Some((big(&x.retrieve()), big(&y.retrieve())))
    }
}
