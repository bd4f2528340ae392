//! Go's `x509.ParseCertificate` (Go 1.26 `crypto/x509/parser.go`), ported
//! for its verdict and its Subject Alternative Names.
//!
//! A certificate Go refuses (negative serial, mismatched signature
//! algorithms, an invalid name string, a bad validity time, a duplicate or
//! malformed extension, an off-curve key, trailing bytes …) makes the entry a
//! parse error, so every check Go makes is repeated here in Go's order. What
//! Go merely stores (issuer, validity values, key usage bits) is validated
//! and dropped; the raw DER is kept because it is the canonical form.

use std::collections::HashSet;

use super::extensions::{self, Extension};
use super::othername;
use super::spki::{self, Context};
use crate::pki::der::{go_asn1_string, tag, Der};
use crate::pki::gotime;
use crate::pki::PkiError;

/// A certificate Go accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// The certificate's DER exactly as given (`cert.Raw`).
    pub raw: Vec<u8>,
    /// Sigstore `GetSubjectAlternateNames`: DNS names, e-mails, IPs, URIs,
    /// then the Fulcio OtherName, in that order.
    pub subjects: Vec<String>,
}

fn fail<T>(message: &str) -> Result<T, PkiError> {
    Err(PkiError::decode(format!("x509: {message}")))
}

/// Go `x509.ParseCertificate`.
pub fn parse_certificate(der: &[u8]) -> Result<Certificate, PkiError> {
    let mut input = Der::new(der);
    let Some(raw) = input.read_element(tag::SEQUENCE) else {
        return fail("malformed certificate");
    };
    if raw.len() != der.len() {
        return fail("trailing data");
    }
    let Some(mut cert) = Der::new(raw).read(tag::SEQUENCE) else {
        return fail("malformed certificate");
    };
    let Some(mut tbs) = cert.read(tag::SEQUENCE) else {
        return fail("malformed tbs certificate");
    };

    let version = match tbs.read_optional(tag::context_constructed(0)) {
        None => return fail("malformed version"),
        Some(None) => 0,
        Some(Some(mut v)) => match v.read_i64() {
            Some(n) if v.is_empty() => n,
            _ => return fail("malformed version"),
        },
    };
    if version < 0 {
        return fail("malformed version");
    }
    let version = version + 1;
    if version > 3 {
        return fail("invalid version");
    }

    let Some(serial) = tbs.read_big_int() else {
        return fail("malformed serial number");
    };
    if serial.is_negative() {
        // Go ≥ 1.23 default (GODEBUG x509negativeserial=0).
        return fail("negative serial number");
    }

    let Some(signature_algorithm) = tbs.read(tag::SEQUENCE) else {
        return fail("malformed signature algorithm identifier");
    };
    let Some(outer_signature_algorithm) = cert.read(tag::SEQUENCE) else {
        return fail("malformed algorithm identifier");
    };
    if outer_signature_algorithm.bytes() != signature_algorithm.bytes() {
        return fail("inner and outer signature algorithm identifiers don't match");
    }
    parse_algorithm_identifier(signature_algorithm)?;

    let Some(issuer) = tbs.read_element(tag::SEQUENCE) else {
        return fail("malformed issuer");
    };
    parse_name(issuer)?;

    let Some(mut validity) = tbs.read(tag::SEQUENCE) else {
        return fail("malformed validity");
    };
    read_time(&mut validity)?;
    read_time(&mut validity)?;

    let Some(subject) = tbs.read_element(tag::SEQUENCE) else {
        return fail("malformed issuer");
    };
    parse_name(subject)?;

    let Some(mut spki) = tbs
        .read_element(tag::SEQUENCE)
        .and_then(|e| Der::new(e).read(tag::SEQUENCE))
    else {
        return fail("malformed spki");
    };
    let Some(pk_algorithm) = spki.read(tag::SEQUENCE) else {
        return fail("malformed public key algorithm identifier");
    };
    let (pk_oid, pk_params) = parse_algorithm_identifier(pk_algorithm)?;
    let Some(public_key) = spki.read_bit_string() else {
        return fail("malformed subjectPublicKey");
    };
    let known = [
        spki::OID_RSA,
        spki::OID_DSA,
        spki::OID_ECDSA,
        spki::OID_ED25519,
    ];
    if known.contains(&pk_oid.bytes()) {
        spki::parse_public_key(pk_oid, pk_params, public_key, Context::Certificate)?;
    }

    let mut exts: Vec<Extension<'_>> = Vec::new();
    let mut seen = HashSet::new();
    if version > 1 {
        if tbs.skip_optional(tag::context(1)).is_none() {
            return fail("malformed issuerUniqueID");
        }
        if tbs.skip_optional(tag::context(2)).is_none() {
            return fail("malformed subjectUniqueID");
        }
        if version == 3 {
            let Some(present) = tbs.read_optional(tag::context_constructed(3)) else {
                return fail("malformed extensions");
            };
            if let Some(mut wrapper) = present {
                let Some(mut list) = wrapper.read(tag::SEQUENCE) else {
                    return fail("malformed extensions");
                };
                while !list.is_empty() {
                    let Some(ext) = list.read(tag::SEQUENCE) else {
                        return fail("malformed extension");
                    };
                    let ext = parse_extension(ext)?;
                    if !seen.insert(ext.id) {
                        return fail("certificate contains duplicate extension");
                    }
                    exts.push(ext);
                }
            }
        }
    }
    let sans = extensions::process(&exts)?;

    if cert.read_bit_string().is_none() {
        return fail("malformed signature");
    }

    let mut subjects = sans.dns;
    subjects.extend(sans.emails);
    subjects.extend(sans.ips);
    subjects.extend(sans.uris);
    subjects.extend(othername::fulcio_username(&exts));
    Ok(Certificate {
        raw: raw.to_vec(),
        subjects,
    })
}

/// Go `parseAI`: an OID and, if anything follows, one element of
/// parameters (returned whole, `Parameters.FullBytes`).
fn parse_algorithm_identifier(
    mut der: Der<'_>,
) -> Result<(crate::pki::der::Oid<'_>, &[u8]), PkiError> {
    let Some(oid) = der.read_oid() else {
        return fail("malformed OID");
    };
    if der.is_empty() {
        return Ok((oid, &[]));
    }
    match der.read_any_element() {
        Some((_, params)) => Ok((oid, params)),
        None => fail("malformed parameters"),
    }
}

/// Go `parseExtension`.
fn parse_extension(mut der: Der<'_>) -> Result<Extension<'_>, PkiError> {
    let Some(id) = der.read_oid() else {
        return fail("malformed extension OID field");
    };
    let mut critical = false;
    if der.peek(tag::BOOLEAN) {
        match der.read_bool() {
            Some(c) => critical = c,
            None => return fail("malformed extension critical field"),
        }
    }
    let Some(value) = der.read(tag::OCTET_STRING) else {
        return fail("malformed extension value field");
    };
    Ok(Extension {
        id,
        critical,
        value: value.bytes(),
    })
}

/// Go `parseName`: every attribute value must be one of the string types
/// Go decodes, and decode.
fn parse_name(element: &[u8]) -> Result<(), PkiError> {
    let invalid = || fail("invalid RDNSequence");
    let Some(mut raw) = Der::new(element).read(tag::SEQUENCE) else {
        return invalid();
    };
    while !raw.is_empty() {
        let Some(mut set) = raw.read(tag::SET) else {
            return invalid();
        };
        while !set.is_empty() {
            let Some(mut atav) = set.read(tag::SEQUENCE) else {
                return fail("invalid RDNSequence: invalid attribute");
            };
            if atav.read_oid().is_none() {
                return fail("invalid RDNSequence: invalid attribute type");
            }
            let Some((value_tag, value)) = atav.read_any() else {
                return fail("invalid RDNSequence: invalid attribute value");
            };
            let decodable = value_tag != tag::GENERAL_STRING
                && go_asn1_string(value_tag, value.bytes()).is_some();
            if !decodable {
                return fail("invalid RDNSequence: invalid attribute value");
            }
        }
    }
    Ok(())
}

/// Go `readASN1Time`.
fn read_time(der: &mut Der<'_>) -> Result<(), PkiError> {
    if der.peek(tag::UTC_TIME) {
        match der.read(tag::UTC_TIME) {
            Some(t) if gotime::valid_utc_time(t.bytes()) => Ok(()),
            _ => fail("malformed UTCTime"),
        }
    } else if der.peek(tag::GENERALIZED_TIME) {
        match der.read(tag::GENERALIZED_TIME) {
            Some(t) if gotime::valid_generalized_time(t.bytes()) => Ok(()),
            _ => fail("malformed GeneralizedTime"),
        }
    } else {
        fail("unsupported time format")
    }
}
