//! SubjectPublicKeyInfo: Go's `ParsePKIXPublicKey`, `parsePublicKey` and
//! `MarshalPKIXPublicKey`.
//!
//! A bare `PUBLIC KEY` is hashed in the form Go re-encodes it to, which drops
//! anything Go ignores while parsing (trailing elements, extra bytes inside
//! the key BIT STRING) and normalises the AlgorithmIdentifier. DSA keys parse
//! but cannot be re-encoded, exactly as in Go.

use crate::pki::der::{self, asn1_element, tag, BitString, Der, Integer, Oid};
use crate::pki::ec::Curve;
use crate::pki::PkiError;

pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
pub(crate) const OID_DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
pub(crate) const OID_ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_X25519: &[u8] = &[0x2b, 0x65, 0x6e];
const OID_P224: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x21];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const NULL_BYTES: &[u8] = &[0x05, 0x00];

/// A key as Go's `parsePublicKey` accepted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedKey {
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    Ecdsa { curve: Curve, point: Vec<u8> },
    Ed25519(Vec<u8>),
    X25519(Vec<u8>),
    Dsa,
}

/// Where a key is parsed: `ParsePKIXPublicKey` knows X25519 and fails on
/// unknown algorithms; a certificate only parses RSA, DSA, ECDSA and
/// Ed25519 keys and accepts any other algorithm unparsed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Context {
    BareKey,
    Certificate,
}

/// Go `parsePublicKey`. `params_full` is the whole parameters element
/// (Go's `Parameters.FullBytes`), empty when absent. `Ok(None)`: an
/// algorithm a certificate may carry without Go parsing it.
pub fn parse_public_key(
    algorithm: Oid<'_>,
    params_full: &[u8],
    key: BitString<'_>,
    context: Context,
) -> Result<Option<ParsedKey>, PkiError> {
    let data = key.right_align();
    let err = |m: &str| Err(PkiError::decode(format!("x509: {m}")));
    match algorithm.bytes() {
        OID_RSA => {
            if params_full != NULL_BYTES {
                return err("RSA key missing NULL parameters");
            }
            let mut der = Der::new(&data);
            let Some(mut seq) = der.read(tag::SEQUENCE) else {
                return err("invalid RSA public key");
            };
            let Some(modulus) = seq.read_big_int() else {
                return err("invalid RSA modulus");
            };
            let Some(exponent) = seq.read_big_int().filter(|e| e.bytes().len() <= 8) else {
                return err("invalid RSA public exponent");
            };
            if !modulus.is_positive() {
                return err("RSA modulus is not a positive number");
            }
            if !exponent.is_positive() {
                return err("RSA public exponent is not a positive number");
            }
            Ok(Some(ParsedKey::Rsa {
                modulus: modulus.bytes().to_vec(),
                exponent: exponent.bytes().to_vec(),
            }))
        }
        OID_ECDSA => {
            let Some(curve_oid) = Der::new(params_full).read_oid() else {
                return err("invalid ECDSA parameters");
            };
            let curve = match curve_oid.bytes() {
                OID_P224 => Curve::P224,
                OID_P256 => Curve::P256,
                OID_P384 => Curve::P384,
                OID_P521 => Curve::P521,
                _ => return err("unsupported elliptic curve"),
            };
            if !curve.is_valid_uncompressed(&data) {
                return Err(PkiError::decode("ecdsa: invalid public key"));
            }
            Ok(Some(ParsedKey::Ecdsa { curve, point: data }))
        }
        OID_ED25519 => {
            if !params_full.is_empty() {
                return err("Ed25519 key encoded with illegal parameters");
            }
            if data.len() != 32 {
                return err("wrong Ed25519 public key size");
            }
            Ok(Some(ParsedKey::Ed25519(data)))
        }
        OID_X25519 if context == Context::BareKey => {
            if !params_full.is_empty() {
                return err("X25519 key encoded with illegal parameters");
            }
            if data.len() != 32 {
                return Err(PkiError::decode("crypto/ecdh: invalid public key"));
            }
            Ok(Some(ParsedKey::X25519(data)))
        }
        OID_DSA => {
            let positive = |i: Option<Integer<'_>>| i.is_some_and(|i| i.is_positive());
            let Some(y) = Der::new(&data).read_big_int() else {
                return err("invalid DSA public key");
            };
            let mut params = Der::new(params_full);
            let Some(mut seq) = params.read(tag::SEQUENCE) else {
                return err("invalid DSA parameters");
            };
            let (p, q, g) = (seq.read_big_int(), seq.read_big_int(), seq.read_big_int());
            if p.is_none() || q.is_none() || g.is_none() {
                return err("invalid DSA parameters");
            }
            if !y.is_positive() || !positive(p) || !positive(q) || !positive(g) {
                return err("zero or negative DSA parameter");
            }
            Ok(Some(ParsedKey::Dsa))
        }
        _ if context == Context::Certificate => Ok(None),
        _ => err("unknown public key algorithm"),
    }
}

/// Go `x509.ParsePKIXPublicKey`, which reads the outer structure with
/// `encoding/asn1` (trailing elements inside a SEQUENCE are ignored,
/// trailing bytes after it are not).
pub fn parse_pkix_public_key(der_bytes: &[u8]) -> Result<ParsedKey, PkiError> {
    let malformed = || PkiError::decode("asn1: structure error: malformed public key info");
    let (outer, rest) = asn1_element(der_bytes).ok_or_else(malformed)?;
    if !is_universal(&outer.header, 16, true) {
        return Err(malformed());
    }
    if !rest.is_empty() {
        return Err(PkiError::decode(
            "x509: trailing data after ASN.1 of public-key",
        ));
    }
    let (algorithm_id, after_algorithm) = asn1_element(outer.contents).ok_or_else(malformed)?;
    if !is_universal(&algorithm_id.header, 16, true) {
        return Err(malformed());
    }
    let (oid_element, params) = asn1_element(algorithm_id.contents).ok_or_else(malformed)?;
    if !is_universal(&oid_element.header, u32::from(tag::OID), false) {
        return Err(malformed());
    }
    let algorithm = Oid::parse(oid_element.contents).ok_or_else(malformed)?;
    let params_full = if params.is_empty() {
        &[][..]
    } else {
        asn1_element(params).ok_or_else(malformed)?.0.full
    };
    let (bits, _) = asn1_element(after_algorithm).ok_or_else(malformed)?;
    if !is_universal(&bits.header, u32::from(tag::BIT_STRING), false) {
        return Err(malformed());
    }
    let key = BitString::parse(bits.contents).ok_or_else(malformed)?;
    parse_public_key(algorithm, params_full, key, Context::BareKey)?
        .ok_or_else(|| PkiError::unsupported("x509: unknown public key algorithm"))
}

fn is_universal(h: &der::Asn1Header, number: u32, constructed: bool) -> bool {
    h.class == 0 && h.tag == number && h.constructed == constructed
}

/// Go `x509.MarshalPKIXPublicKey`.
pub fn marshal_pkix_public_key(key: &ParsedKey) -> Result<Vec<u8>, PkiError> {
    let (algorithm, key_bytes) = match key {
        ParsedKey::Rsa { modulus, exponent } => {
            let pkcs1 = tlv(
                tag::SEQUENCE,
                &[tlv(tag::INTEGER, modulus), tlv(tag::INTEGER, exponent)].concat(),
            );
            (
                tlv(
                    tag::SEQUENCE,
                    &[tlv(tag::OID, OID_RSA), NULL_BYTES.to_vec()].concat(),
                ),
                pkcs1,
            )
        }
        ParsedKey::Ecdsa { curve, point } => {
            let curve_oid = match curve {
                Curve::P224 => OID_P224,
                Curve::P256 => OID_P256,
                Curve::P384 => OID_P384,
                Curve::P521 => OID_P521,
            };
            (
                tlv(
                    tag::SEQUENCE,
                    &[tlv(tag::OID, OID_ECDSA), tlv(tag::OID, curve_oid)].concat(),
                ),
                point.clone(),
            )
        }
        ParsedKey::Ed25519(k) => (tlv(tag::SEQUENCE, &tlv(tag::OID, OID_ED25519)), k.clone()),
        ParsedKey::X25519(k) => (tlv(tag::SEQUENCE, &tlv(tag::OID, OID_X25519)), k.clone()),
        ParsedKey::Dsa => {
            return Err(PkiError::unsupported(
                "x509: unsupported public key type: *dsa.PublicKey",
            ))
        }
    };
    let mut bit_string = Vec::with_capacity(key_bytes.len() + 1);
    bit_string.push(0);
    bit_string.extend_from_slice(&key_bytes);
    Ok(tlv(
        tag::SEQUENCE,
        &[algorithm, tlv(tag::BIT_STRING, &bit_string)].concat(),
    ))
}

/// One DER element with a minimal length.
pub(crate) fn tlv(tag_byte: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag_byte);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_lengths_are_minimal() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 0x02, 1, 2]);
        let long = tlv(0x04, &[0u8; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = tlv(0x04, &[0u8; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn ed25519_round_trip_and_trailing_elements_dropped() {
        let key = [7u8; 32];
        let canonical = marshal_pkix_public_key(&ParsedKey::Ed25519(key.to_vec())).unwrap();
        let parsed = parse_pkix_public_key(&canonical).unwrap();
        assert_eq!(parsed, ParsedKey::Ed25519(key.to_vec()));
        // An extra element after the BIT STRING is ignored by Go's
        // encoding/asn1 and disappears from the canonical form.
        let mut inner = Der::new(&canonical)
            .read(tag::SEQUENCE)
            .unwrap()
            .bytes()
            .to_vec();
        inner.extend_from_slice(&tlv(tag::NULL, &[]));
        let padded = tlv(tag::SEQUENCE, &inner);
        let reparsed = parse_pkix_public_key(&padded).unwrap();
        assert_eq!(marshal_pkix_public_key(&reparsed).unwrap(), canonical);
        // Trailing bytes after the SEQUENCE are an error.
        let mut trailing = canonical.clone();
        trailing.push(0);
        assert!(parse_pkix_public_key(&trailing).is_err());
    }

    #[test]
    fn rejects_bad_keys() {
        // Ed25519 with parameters, wrong size.
        let with_params = tlv(
            tag::SEQUENCE,
            &[
                tlv(
                    tag::SEQUENCE,
                    &[tlv(tag::OID, OID_ED25519), NULL_BYTES.to_vec()].concat(),
                ),
                tlv(tag::BIT_STRING, &[[0u8].as_slice(), &[1u8; 32]].concat()),
            ]
            .concat(),
        );
        assert!(parse_pkix_public_key(&with_params).is_err());
        let short = marshal_pkix_public_key(&ParsedKey::Ed25519(vec![1; 31])).unwrap();
        assert!(parse_pkix_public_key(&short).is_err());
        // An EC key whose point is not on the curve.
        let off_curve = marshal_pkix_public_key(&ParsedKey::Ecdsa {
            curve: Curve::P256,
            point: [vec![4u8], vec![1u8; 64]].concat(),
        })
        .unwrap();
        assert!(parse_pkix_public_key(&off_curve).is_err());
        // DSA parses but cannot be marshalled.
        assert!(marshal_pkix_public_key(&ParsedKey::Dsa).is_err());
    }
}
