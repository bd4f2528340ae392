//! Public-key packets (tags 6 and 14, and the public part of 5 and 7), as
//! go-crypto's `PublicKey.parse` reads them and `Serialize` writes them.
//!
//! go-crypto keeps every MPI exactly as read (bit count and bytes, leading
//! zeros included) and re-emits the same fields, so the re-serialised body
//! is the bytes the parser consumed — except the v6 key-material count,
//! which it recomputes. The body is therefore kept raw; the parsed values
//! are only what signature verification needs.

use num_bigint::BigUint;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::curves::{self, Curve};
use super::packet::{Error, Source};

pub const ALGO_RSA: u8 = 1;
pub const ALGO_RSA_ENCRYPT_ONLY: u8 = 2;
pub const ALGO_RSA_SIGN_ONLY: u8 = 3;
pub const ALGO_ELGAMAL: u8 = 16;
pub const ALGO_DSA: u8 = 17;
pub const ALGO_ECDH: u8 = 18;
pub const ALGO_ECDSA: u8 = 19;
pub const ALGO_EDDSA: u8 = 22;
pub const ALGO_X25519: u8 = 25;
pub const ALGO_X448: u8 = 26;
pub const ALGO_ED25519: u8 = 27;
pub const ALGO_ED448: u8 = 28;

/// The largest RSA modulus accepted, in bits. go-crypto takes any MPI (up
/// to 65535 bits); tools stop at 16384 (GnuPG at 4096). A verification with
/// a 16384-bit modulus costs ~2 ms, with a 65535-bit one ~25 ms.
pub const MAX_RSA_BITS: u64 = 16384;
/// The largest DSA prime and subgroup order accepted, in bits. FIPS 186
/// and OpenPGP stop at 3072 and 256; a verification costs two modular
/// exponentiations of `q`-bit exponents modulo `p`, which with 65535-bit
/// parameters (what an MPI can hold) would take minutes.
pub const MAX_DSA_P_BITS: u64 = 4096;
pub const MAX_DSA_Q_BITS: u64 = 512;

/// Refuses key material beyond a size limit (a per-entry error).
fn check_bits(what: &str, value: &BigUint, limit: u64) -> Result<(), Error> {
    if value.bits() > limit {
        return Err(Error::Fatal(format!(
            "{what} of {} bits is over the limit of {limit} bits",
            value.bits()
        )));
    }
    Ok(())
}

/// Key material that signature verification uses.
#[derive(Clone, Debug)]
pub enum Material {
    Rsa {
        n: BigUint,
        e: u32,
    },
    Dsa {
        p: BigUint,
        q: BigUint,
        g: BigUint,
        y: BigUint,
    },
    Ecdsa {
        curve: &'static Curve,
        x: BigUint,
        y: BigUint,
    },
    /// Legacy EdDSA (algorithm 22) on Ed25519.
    EdDsa25519([u8; 32]),
    /// Native Ed25519 (algorithm 27).
    Ed25519([u8; 32]),
    /// Ed448, legacy or native: parsed, not verifiable here.
    Ed448,
    /// Keys that cannot sign (ElGamal, ECDH, X25519, X448).
    NoSigning,
}

/// A parsed public key (or the public part of a secret key).
#[derive(Clone, Debug)]
pub struct KeyPacket {
    pub version: u8,
    pub algorithm: u8,
    pub is_subkey: bool,
    /// The body as go-crypto re-serialises it.
    body: Vec<u8>,
    pub material: Material,
    pub fingerprint: Vec<u8>,
    pub key_id: u64,
}

/// An OpenPGP MPI as read: bit count and `(bits + 7) / 8` bytes.
pub struct Mpi {
    pub bytes: Vec<u8>,
}

impl Mpi {
    pub fn value(&self) -> BigUint {
        BigUint::from_bytes_be(&self.bytes)
    }
}

/// go-crypto `encoding.MPI.ReadFrom`; appends the encoded form to `raw`.
pub fn read_mpi(src: &mut dyn Source, raw: &mut Vec<u8>) -> Result<Mpi, Error> {
    let head = src.read_exact(2)?;
    let bits = usize::from(u16::from_be_bytes([head[0], head[1]]));
    let bytes = src.read_exact(bits.div_ceil(8))?;
    raw.extend_from_slice(&head);
    raw.extend_from_slice(&bytes);
    Ok(Mpi { bytes })
}

/// go-crypto `encoding.OID.ReadFrom` (also used for the ECDH KDF field).
fn read_oid(src: &mut dyn Source, raw: &mut Vec<u8>) -> Result<Vec<u8>, Error> {
    let len = src.read_exact(1)?[0];
    if len == 0 || len == 0xff {
        return Err(Error::unsupported("reserved for future extensions"));
    }
    let bytes = src.read_exact(usize::from(len))?;
    raw.push(len);
    raw.extend_from_slice(&bytes);
    Ok(bytes)
}

/// `io.ReadFull` of a fixed-size native key (an `io.EOF` here ends the
/// keyring, as in Go).
fn read_native(src: &mut dyn Source, n: usize, raw: &mut Vec<u8>) -> Result<Vec<u8>, Error> {
    let bytes = src.read_full(n)?;
    raw.extend_from_slice(&bytes);
    Ok(bytes)
}

impl KeyPacket {
    /// go-crypto `PublicKey.parse`.
    pub fn parse(src: &mut dyn Source, is_subkey: bool) -> Result<KeyPacket, Error> {
        let head = src.read_exact(6)?;
        let version = head[0];
        if version == 5 {
            return Err(Error::unsupported(
                "support for parsing v5 entities is disabled; build with `-tags v5` if needed",
            ));
        }
        if version != 4 && version != 6 {
            return Err(Error::unsupported(format!("public key version {version}")));
        }
        let mut body = head.clone();
        if version == 6 {
            // The key-material count is read and ignored; it is rewritten
            // below from what was actually parsed.
            src.read_exact(4)?;
            body.extend_from_slice(&[0; 4]);
        }
        let algorithm = head[5];
        let material = match algorithm {
            ALGO_RSA | ALGO_RSA_ENCRYPT_ONLY | ALGO_RSA_SIGN_ONLY => {
                let n = read_mpi(src, &mut body)?;
                let e = read_mpi(src, &mut body)?;
                if e.bytes.len() > 3 {
                    return Err(Error::unsupported("large public exponent"));
                }
                let e = e
                    .bytes
                    .iter()
                    .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
                let n = n.value();
                check_bits("RSA modulus", &n, MAX_RSA_BITS)?;
                Material::Rsa { n, e }
            }
            ALGO_DSA => {
                let p = read_mpi(src, &mut body)?.value();
                let q = read_mpi(src, &mut body)?.value();
                let g = read_mpi(src, &mut body)?.value();
                let y = read_mpi(src, &mut body)?.value();
                check_bits("DSA prime", &p, MAX_DSA_P_BITS)?;
                check_bits("DSA subgroup order", &q, MAX_DSA_Q_BITS)?;
                Material::Dsa { p, q, g, y }
            }
            ALGO_ELGAMAL => {
                for _ in 0..3 {
                    read_mpi(src, &mut body)?;
                }
                Material::NoSigning
            }
            ALGO_ECDSA => {
                let oid = read_oid(src, &mut body)?;
                let info = curves::by_oid(&oid).ok_or_else(|| unknown_oid(&oid))?;
                let point = read_mpi(src, &mut body)?;
                let curve = info.weierstrass().ok_or_else(|| {
                    Error::unsupported(format!("unsupported oid: {}", hex::encode(&oid)))
                })?;
                let (x, y) = curve
                    .unmarshal(&point.bytes)
                    .ok_or_else(|| Error::Fatal("ecdsa: failed to parse EC point".into()))?;
                Material::Ecdsa { curve, x, y }
            }
            ALGO_ECDH => {
                let oid = read_oid(src, &mut body)?;
                let info = curves::by_oid(&oid).ok_or_else(|| unknown_oid(&oid))?;
                if version == 6 && info.is_curve25519_legacy() {
                    return Err(Error::structural(
                        "cannot read v6 key with deprecated OID: Curve25519Legacy",
                    ));
                }
                let point = read_mpi(src, &mut body)?;
                let kdf = read_oid(src, &mut body)?;
                if !info.can_ecdh() {
                    return Err(Error::unsupported(format!(
                        "unsupported oid: {}",
                        hex::encode(&oid)
                    )));
                }
                check_kdf(&kdf)?;
                if !info.ecdh_point_ok(&point.bytes) {
                    return Err(Error::Fatal("ecdh: failed to parse EC point".into()));
                }
                Material::NoSigning
            }
            ALGO_EDDSA => {
                if version == 6 {
                    return Err(Error::structural(
                        "cannot generate v6 key with deprecated algorithm: EdDSALegacy",
                    ));
                }
                let oid = read_oid(src, &mut body)?;
                let info = curves::by_oid(&oid).ok_or_else(|| unknown_oid(&oid))?;
                if !info.can_eddsa() {
                    return Err(Error::unsupported(format!(
                        "unsupported oid: {}",
                        hex::encode(&oid)
                    )));
                }
                let point = read_mpi(src, &mut body)?;
                let Some(&flag) = point.bytes.first() else {
                    return Err(Error::structural("empty EdDSA public key"));
                };
                if flag != 0x40 {
                    return Err(Error::unsupported(format!(
                        "unsupported EdDSA compression: {flag}"
                    )));
                }
                info.eddsa_material(&point.bytes)
                    .ok_or_else(|| Error::Fatal("eddsa: failed to parse EC point".into()))?
            }
            ALGO_X25519 => {
                read_native(src, 32, &mut body)?;
                Material::NoSigning
            }
            ALGO_X448 => {
                read_native(src, 56, &mut body)?;
                Material::NoSigning
            }
            ALGO_ED25519 => {
                let point = read_native(src, 32, &mut body)?;
                let mut key = [0u8; 32];
                key.copy_from_slice(&point);
                Material::Ed25519(key)
            }
            ALGO_ED448 => {
                read_native(src, 57, &mut body)?;
                Material::Ed448
            }
            other => return Err(Error::unsupported(format!("public key type: {other}"))),
        };
        if version == 6 {
            let count = (body.len() - 10) as u32;
            body[6..10].copy_from_slice(&count.to_be_bytes());
        }
        let (fingerprint, key_id) = fingerprint(version, &body);
        Ok(KeyPacket {
            version,
            algorithm,
            is_subkey,
            body,
            material,
            fingerprint,
            key_id,
        })
    }

    /// go-crypto `PublicKey.CanSign`.
    pub fn can_sign(&self) -> bool {
        !matches!(
            self.algorithm,
            ALGO_RSA_ENCRYPT_ONLY | ALGO_ELGAMAL | ALGO_ECDH
        )
    }

    /// `SerializeForHash`: the key as it enters a signature hash.
    pub fn hash_prefix_and_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 5);
        write_hash_prefix(&mut out, self.version, self.body.len());
        out.extend_from_slice(&self.body);
        out
    }

    /// `Serialize`: a public key or public subkey packet.
    pub fn serialize(&self, out: &mut Vec<u8>) {
        let tag = if self.is_subkey { 14 } else { 6 };
        super::packet::write_header(out, tag, self.body.len());
        out.extend_from_slice(&self.body);
    }
}

fn unknown_oid(oid: &[u8]) -> Error {
    Error::unsupported(format!("unknown oid: {}", hex::encode(oid)))
}

/// The ECDH KDF parameters go-crypto accepts.
fn check_kdf(kdf: &[u8]) -> Result<(), Error> {
    if kdf.len() < 3 {
        return Err(Error::unsupported(format!(
            "unsupported ECDH KDF length: {}",
            kdf.len()
        )));
    }
    if kdf[0] != 0x01 {
        return Err(Error::unsupported(format!(
            "unsupported KDF reserved field: {}",
            kdf[0]
        )));
    }
    // SHA-256, SHA-384, SHA-512, SHA-224, SHA3-256, SHA3-512 (no SHA-1).
    if !matches!(kdf[1], 8 | 9 | 10 | 11 | 12 | 14) {
        return Err(Error::unsupported(format!(
            "unsupported ECDH KDF hash: {}",
            kdf[1]
        )));
    }
    // TripleDES, CAST5, AES-128, AES-192, AES-256.
    if !matches!(kdf[2], 2 | 3 | 7 | 8 | 9) {
        return Err(Error::unsupported(format!(
            "unsupported ECDH KDF cipher: {}",
            kdf[2]
        )));
    }
    Ok(())
}

/// `SerializeSignaturePrefix`: `0x99 ‖ len16` for v4, `0x9B ‖ len32` for v6.
fn write_hash_prefix(out: &mut Vec<u8>, version: u8, len: usize) {
    if version >= 5 {
        out.push(0x95 + version);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x99);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
}

/// `setFingerprintAndKeyId`: SHA-1 (v4) or SHA-256 (v6) of the hash form.
fn fingerprint(version: u8, body: &[u8]) -> (Vec<u8>, u64) {
    let mut data = Vec::with_capacity(body.len() + 5);
    write_hash_prefix(&mut data, version, body.len());
    data.extend_from_slice(body);
    if version >= 5 {
        let fp = Sha256::digest(&data).to_vec();
        let id = u64::from_be_bytes(fp[..8].try_into().unwrap_or_default());
        (fp, id)
    } else {
        let fp = Sha1::digest(&data).to_vec();
        let id = u64::from_be_bytes(fp[12..20].try_into().unwrap_or_default());
        (fp, id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::SliceSource;
    use super::*;

    /// A v4 RSA key with e = 65537 and a tiny modulus (parsing does not
    /// check sizes).
    fn rsa_body() -> Vec<u8> {
        let mut b = vec![4, 0x5f, 0x9b, 0x2a, 0xcd, ALGO_RSA];
        b.extend_from_slice(&[0, 9, 0x01, 0x23]); // n: 9 bits
        b.extend_from_slice(&[0, 17, 0x01, 0x00, 0x01]); // e
        b
    }

    #[test]
    fn rsa_key_round_trips_and_has_a_v4_fingerprint() {
        let body = rsa_body();
        let key = KeyPacket::parse(&mut SliceSource(&body), false).unwrap();
        let mut out = Vec::new();
        key.serialize(&mut out);
        assert_eq!(out[..2], [0xc6, body.len() as u8]);
        assert_eq!(&out[2..], &body[..]);
        let mut hashed = vec![0x99, 0, body.len() as u8];
        hashed.extend_from_slice(&body);
        assert_eq!(key.fingerprint, Sha1::digest(&hashed).to_vec());
        assert_eq!(key.key_id.to_be_bytes(), key.fingerprint[12..20]);
        match key.material {
            Material::Rsa { e, ref n } => {
                assert_eq!(e, 65537);
                assert_eq!(*n, BigUint::from(0x123u32));
            }
            _ => panic!("not RSA"),
        }
    }

    #[test]
    fn mpis_keep_leading_zero_bytes() {
        let mut body = vec![4, 0, 0, 0, 1, ALGO_RSA];
        body.extend_from_slice(&[0, 16, 0x00, 0x05]); // "16 bits" but value 5
        body.extend_from_slice(&[0, 2, 0x03]);
        let key = KeyPacket::parse(&mut SliceSource(&body), true).unwrap();
        let mut out = Vec::new();
        key.serialize(&mut out);
        assert_eq!(out[0], 0xce);
        assert_eq!(&out[2..], &body[..]);
    }

    #[test]
    fn unsupported_versions_algorithms_and_exponents() {
        let mut v3 = rsa_body();
        v3[0] = 3;
        assert!(matches!(
            KeyPacket::parse(&mut SliceSource(&v3), false),
            Err(Error::Unsupported(_))
        ));
        let mut algo = rsa_body();
        algo[5] = 99;
        assert!(matches!(
            KeyPacket::parse(&mut SliceSource(&algo), false),
            Err(Error::Unsupported(_))
        ));
        let mut big_e = vec![4, 0, 0, 0, 1, ALGO_RSA, 0, 1, 1];
        big_e.extend_from_slice(&[0, 25, 1, 0, 0, 1]);
        assert!(matches!(
            KeyPacket::parse(&mut SliceSource(&big_e), false),
            Err(Error::Unsupported(_))
        ));
        let truncated = &rsa_body()[..8];
        assert!(matches!(
            KeyPacket::parse(&mut SliceSource(truncated), false),
            Err(Error::Fatal(_))
        ));
    }

    #[test]
    fn native_ed25519_key_that_is_cut_off_reads_as_eof() {
        let body = [4, 0, 0, 0, 1, ALGO_ED25519];
        assert_eq!(
            KeyPacket::parse(&mut SliceSource(&body), false).err(),
            Some(Error::Eof)
        );
    }

    #[test]
    fn v6_key_material_count_is_recomputed() {
        let mut body = vec![6, 0, 0, 0, 1, ALGO_ED25519, 0xde, 0xad, 0xbe, 0xef];
        body.extend_from_slice(&[7; 32]);
        let key = KeyPacket::parse(&mut SliceSource(&body), false).unwrap();
        let mut out = Vec::new();
        key.serialize(&mut out);
        assert_eq!(&out[2 + 6..2 + 10], &32u32.to_be_bytes());
        assert_eq!(key.fingerprint.len(), 32);
        let hashed = key.hash_prefix_and_body();
        assert_eq!(hashed[0], 0x9b);
        assert_eq!(&hashed[1..5], &42u32.to_be_bytes());
    }
}
