//! Go's `processExtensions`: which certificate extensions make the whole
//! certificate a parse error, and the Subject Alternative Names.
//!
//! Only the SANs feed index keys, but Go fails `ParseCertificate` on a
//! malformed key usage, basic constraints, name constraints, policy, AIA …
//! extension, and such an entry then has no keys at all. Each check below is
//! a line-by-line port of Go 1.26's `crypto/x509/parser.go`; values Go would
//! store are validated and dropped.

use std::collections::HashSet;

use crate::pki::der::{tag, Der, Oid};
use crate::pki::goname::{self, GoUrl};
use crate::pki::PkiError;

const OID_AIA: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];

/// One raw extension (`pkix.Extension`).
#[derive(Clone, Copy, Debug)]
pub struct Extension<'a> {
    pub id: Oid<'a>,
    pub critical: bool,
    pub value: &'a [u8],
}

/// The SANs Go keeps, already rendered as Go renders them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sans {
    pub dns: Vec<String>,
    pub emails: Vec<String>,
    pub ips: Vec<String>,
    pub uris: Vec<String>,
}

fn fail<T>(message: &str) -> Result<T, PkiError> {
    Err(PkiError::decode(format!("x509: {message}")))
}

/// Go `processExtensions`, returning the SANs.
pub fn process(extensions: &[Extension<'_>]) -> Result<Sans, PkiError> {
    let mut sans = Sans::default();
    for e in extensions {
        if let Some(arc) = e.id.id_ce_arc() {
            match arc {
                15 => {
                    Der::new(e.value)
                        .read_bit_string()
                        .map_or_else(|| fail("invalid key usage"), |_| Ok(()))?;
                }
                19 => basic_constraints(e.value)?,
                17 => sans = subject_alt_names(e.value)?,
                30 => name_constraints(e.value)?,
                31 => crl_distribution_points(e.value)?,
                35 => {
                    if e.critical {
                        return fail("authority key identifier incorrectly marked critical");
                    }
                    let mut val = Der::new(e.value);
                    let Some(mut akid) = val.read(tag::SEQUENCE) else {
                        return fail("invalid authority key identifier");
                    };
                    if akid.peek(tag::context(0)) && akid.read(tag::context(0)).is_none() {
                        return fail("invalid authority key identifier");
                    }
                }
                36 => policy_constraints(e.value)?,
                37 => {
                    let mut der = Der::new(e.value);
                    let Some(mut seq) = der.read(tag::SEQUENCE) else {
                        return fail("invalid extended key usages");
                    };
                    while !seq.is_empty() {
                        if seq.read_oid().is_none() {
                            return fail("invalid extended key usages");
                        }
                    }
                }
                14 => {
                    if e.critical {
                        return fail("subject key identifier incorrectly marked critical");
                    }
                    if Der::new(e.value).read(tag::OCTET_STRING).is_none() {
                        return fail("invalid subject key identifier");
                    }
                }
                32 => certificate_policies(e.value)?,
                33 => policy_mappings(e.value)?,
                54 if Der::new(e.value).read_i64().is_none() => {
                    return fail("invalid inhibit any policy extension");
                }
                _ => {}
            }
        } else if e.id.bytes() == OID_AIA {
            authority_info_access(e)?;
        }
    }
    Ok(sans)
}

fn basic_constraints(value: &[u8]) -> Result<(), PkiError> {
    let invalid = || fail("invalid basic constraints");
    let Some(mut der) = Der::new(value).read(tag::SEQUENCE) else {
        return invalid();
    };
    if der.peek(tag::BOOLEAN) && der.read_bool().is_none() {
        return invalid();
    }
    if der.peek(tag::INTEGER) {
        match der.read_u64() {
            Some(v) if v <= i64::MAX as u64 => {}
            _ => return invalid(),
        }
    }
    Ok(())
}

/// Go `parseSANExtension` (via `forEachSAN`).
fn subject_alt_names(value: &[u8]) -> Result<Sans, PkiError> {
    let mut sans = Sans::default();
    let Some(mut der) = Der::new(value).read(tag::SEQUENCE) else {
        return fail("invalid subject alternative names");
    };
    while !der.is_empty() {
        let Some((t, data)) = der.read_any() else {
            return fail("invalid subject alternative name");
        };
        let data = data.bytes();
        match t ^ 0x80 {
            1 => sans.emails.push(ia5(data, "SAN rfc822Name is malformed")?),
            2 => sans.dns.push(ia5(data, "SAN dNSName is malformed")?),
            6 => {
                let uri = ia5(data, "SAN uniformResourceIdentifier is malformed")?;
                let parsed = GoUrl::parse(uri.as_bytes()).map_err(|e| {
                    PkiError::decode(format!("x509: cannot parse URI {uri:?}: {e}"))
                })?;
                if !parsed.host().is_empty() && !domain_name_valid(parsed.host(), false) {
                    return fail(&format!("cannot parse URI {uri:?}: invalid domain"));
                }
                sans.uris.push(parsed.render());
            }
            7 => match goname::render_ip(data) {
                Some(ip) => sans.ips.push(ip),
                None => return fail(&format!("cannot parse IP address of length {}", data.len())),
            },
            _ => {}
        }
    }
    Ok(sans)
}

/// Go `isIA5String` on `string(data)`: every byte ASCII.
fn ia5(data: &[u8], message: &str) -> Result<String, PkiError> {
    if data.is_ascii() {
        Ok(data.iter().map(|&b| char::from(b)).collect())
    } else {
        fail(message)
    }
}

/// Go `domainNameValid` (Go 1.26: trailing dot, bytes 33–126, no empty
/// labels; the stricter RFC 1034 checks are disabled upstream).
pub fn domain_name_valid(s: &[u8], constraint: bool) -> bool {
    if s.is_empty() {
        return true;
    }
    if s[s.len() - 1] == b'.' {
        return false;
    }
    let s = if constraint && s[0] == b'.' {
        &s[1..]
    } else {
        s
    };
    s.iter().all(|&c| (33..=126).contains(&c))
        && s.split(|&c| c == b'.').all(|label| !label.is_empty())
}

fn name_constraints(value: &[u8]) -> Result<(), PkiError> {
    let invalid = || fail("invalid NameConstraints extension");
    let mut outer = Der::new(value);
    let Some(mut top) = outer.read(tag::SEQUENCE) else {
        return invalid();
    };
    if !outer.is_empty() {
        return invalid();
    }
    let Some(permitted) = top.read_optional(tag::context_constructed(0)) else {
        return invalid();
    };
    let Some(excluded) = top.read_optional(tag::context_constructed(1)) else {
        return invalid();
    };
    if !top.is_empty() {
        return invalid();
    }
    let empty = |d: &Option<Der<'_>>| d.is_none_or(|d| d.is_empty());
    if (permitted.is_none() && excluded.is_none()) || (empty(&permitted) && empty(&excluded)) {
        return fail("empty name constraints extension");
    }
    for subtrees in [permitted, excluded].into_iter().flatten() {
        general_subtrees(subtrees)?;
    }
    Ok(())
}

fn general_subtrees(mut subtrees: Der<'_>) -> Result<(), PkiError> {
    while !subtrees.is_empty() {
        let Some((t, value)) = subtrees.read(tag::SEQUENCE).and_then(|mut s| s.read_any()) else {
            return fail("invalid NameConstraints extension");
        };
        let value = value.bytes();
        match t {
            0x82 => {
                let domain = ia5(value, "invalid constraint value")?;
                if !domain_name_valid(domain.as_bytes(), true) {
                    return fail(&format!("failed to parse dnsName constraint {domain:?}"));
                }
            }
            0x87 => {
                let mask = match value.len() {
                    8 => &value[4..],
                    32 => &value[16..],
                    n => return fail(&format!("IP constraint contained value of length {n}")),
                };
                if !valid_ip_mask(mask) {
                    return fail("IP constraint contained invalid mask");
                }
            }
            0x81 => {
                let constraint = ia5(value, "invalid constraint value")?;
                let ok = if constraint.contains('@') {
                    rfc2821_mailbox_valid(constraint.as_bytes())
                } else {
                    domain_name_valid(constraint.as_bytes(), true)
                };
                if !ok {
                    return fail(&format!(
                        "failed to parse rfc822Name constraint {constraint:?}"
                    ));
                }
            }
            0x86 => {
                let domain = ia5(value, "invalid constraint value")?;
                if goname::parses_as_ip(domain.as_bytes()) {
                    return fail(&format!(
                        "failed to parse URI constraint {domain:?}: cannot be IP address"
                    ));
                }
                if !domain_name_valid(domain.as_bytes(), true) {
                    return fail(&format!("failed to parse URI constraint {domain:?}"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn valid_ip_mask(mask: &[u8]) -> bool {
    let mut seen_zero = false;
    for &b in mask {
        if seen_zero {
            if b != 0 {
                return false;
            }
            continue;
        }
        match b {
            0x00 | 0x80 | 0xc0 | 0xe0 | 0xf0 | 0xf8 | 0xfc | 0xfe => seen_zero = true,
            0xff => {}
            _ => return false,
        }
    }
    true
}

/// Go `parseRFC2821Mailbox`, acceptance only.
fn rfc2821_mailbox_valid(mut s: &[u8]) -> bool {
    if s.is_empty() {
        return false;
    }
    let mut local = Vec::new();
    if s[0] == b'"' {
        s = &s[1..];
        loop {
            let Some((&c, rest)) = s.split_first() else {
                return false;
            };
            s = rest;
            match c {
                b'"' => break,
                b'\\' => match s.split_first() {
                    Some((&n, rest)) if matches!(n, 11 | 12 | 1..=9 | 14..=127) => {
                        local.push(n);
                        s = rest;
                    }
                    _ => return false,
                },
                11 | 12 | 32 | 33 | 127 | 1..=8 | 14..=31 | 35..=91 | 93..=126 => local.push(c),
                _ => return false,
            }
        }
    } else {
        while let Some(&c) = s.first() {
            if c == b'\\' {
                // An escaped byte outside quotes is accepted whatever it is.
                let Some(&escaped) = s.get(1) else {
                    return false;
                };
                local.push(escaped);
                s = &s[2..];
            } else if c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&c) {
                local.push(c);
                s = &s[1..];
            } else {
                break;
            }
        }
        if local.is_empty()
            || local[0] == b'.'
            || local[local.len() - 1] == b'.'
            || local.windows(2).any(|w| w == b"..")
        {
            return false;
        }
    }
    match s.split_first() {
        Some((b'@', domain)) => domain_to_reverse_labels_ok(domain),
        _ => false,
    }
}

/// Go `domainToReverseLabels` success.
fn domain_to_reverse_labels_ok(domain: &[u8]) -> bool {
    if domain.is_empty() {
        // Go returns an empty label list: valid.
        return true;
    }
    domain
        .split(|&c| c == b'.')
        .all(|label| !label.is_empty() && label.iter().all(|&c| (33..=126).contains(&c)))
}

fn crl_distribution_points(value: &[u8]) -> Result<(), PkiError> {
    let Some(mut val) = Der::new(value).read(tag::SEQUENCE) else {
        return fail("invalid CRL distribution points");
    };
    while !val.is_empty() {
        let invalid = || fail("invalid CRL distribution point");
        let Some(mut dp) = val.read(tag::SEQUENCE) else {
            return invalid();
        };
        let Some(name) = dp.read_optional(tag::context_constructed(0)) else {
            return invalid();
        };
        let Some(mut name) = name else { continue };
        let Some(mut full_name) = name.read(tag::context_constructed(0)) else {
            return invalid();
        };
        while !full_name.is_empty() {
            if !full_name.peek(tag::context(6)) {
                break;
            }
            if full_name.read(tag::context(6)).is_none() {
                return invalid();
            }
        }
    }
    Ok(())
}

fn policy_constraints(value: &[u8]) -> Result<(), PkiError> {
    let invalid = || fail("invalid policy constraints extension");
    let Some(mut val) = Der::new(value).read(tag::SEQUENCE) else {
        return invalid();
    };
    for n in [0, 1] {
        if val.peek(tag::context(n)) && val.read_i64_with_tag(tag::context(n)).is_none() {
            return invalid();
        }
    }
    Ok(())
}

fn certificate_policies(value: &[u8]) -> Result<(), PkiError> {
    let invalid = || fail("invalid certificate policies");
    let Some(mut der) = Der::new(value).read(tag::SEQUENCE) else {
        return invalid();
    };
    let mut seen = HashSet::new();
    while !der.is_empty() {
        let Some(oid) = der.read(tag::SEQUENCE).and_then(|mut cp| cp.read(tag::OID)) else {
            return invalid();
        };
        let oid = oid.bytes();
        if !policy_oid_valid(oid) || !seen.insert(oid) {
            return invalid();
        }
    }
    Ok(())
}

/// Go `newOIDFromDER`: non-empty, last byte terminates, no leading 0x80
/// (no size limit on components, unlike other OIDs).
fn policy_oid_valid(der: &[u8]) -> bool {
    if der.last().is_none_or(|b| b & 0x80 != 0) {
        return false;
    }
    let mut start = true;
    for &v in der {
        if start && v == 0x80 {
            return false;
        }
        start = v & 0x80 == 0;
    }
    true
}

fn policy_mappings(value: &[u8]) -> Result<(), PkiError> {
    let invalid = || fail("invalid policy mappings extension");
    let Some(mut val) = Der::new(value).read(tag::SEQUENCE) else {
        return invalid();
    };
    while !val.is_empty() {
        let Some(mut s) = val.read(tag::SEQUENCE) else {
            return invalid();
        };
        if s.read(tag::OID).is_none() || s.read(tag::OID).is_none() {
            return invalid();
        }
    }
    Ok(())
}

fn authority_info_access(e: &Extension<'_>) -> Result<(), PkiError> {
    if e.critical {
        return fail("authority info access incorrectly marked critical");
    }
    let invalid = || fail("invalid authority info access");
    let Some(mut val) = Der::new(e.value).read(tag::SEQUENCE) else {
        return invalid();
    };
    while !val.is_empty() {
        let Some(mut aia) = val.read(tag::SEQUENCE) else {
            return invalid();
        };
        if aia.read_oid().is_none() {
            return invalid();
        }
        if aia.peek(tag::context(6)) && aia.read(tag::context(6)).is_none() {
            return invalid();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_name_rules() {
        assert!(domain_name_valid(b"example.com", false));
        assert!(domain_name_valid(b"example.com:443", false));
        assert!(domain_name_valid(b"", false));
        assert!(!domain_name_valid(b"example.com.", false));
        assert!(!domain_name_valid(b"a..b", false));
        assert!(!domain_name_valid(b".a", false));
        assert!(domain_name_valid(b".a", true));
        assert!(!domain_name_valid(b"a b", false));
    }

    #[test]
    fn mailbox_rules() {
        assert!(rfc2821_mailbox_valid(b"user@example.com"));
        assert!(rfc2821_mailbox_valid(b"\"quoted user\"@example.com"));
        assert!(rfc2821_mailbox_valid(b"a\\@b@example.com"));
        assert!(!rfc2821_mailbox_valid(b".user@example.com"));
        assert!(!rfc2821_mailbox_valid(b"us..er@example.com"));
        assert!(!rfc2821_mailbox_valid(b"user@example.com."));
        assert!(!rfc2821_mailbox_valid(b"user"));
        assert!(rfc2821_mailbox_valid(b"user@"));
    }

    #[test]
    fn san_extension_rendering_and_errors() {
        // SEQUENCE { [2] "a.example", [1] "Me@Example.com", [7] 10.0.0.1, [6] "HTTPS://x/y" }
        let mut body = Vec::new();
        body.extend([0x82, 9]);
        body.extend(b"a.example");
        body.extend([0x81, 14]);
        body.extend(b"Me@Example.com");
        body.extend([0x87, 4, 10, 0, 0, 1]);
        body.extend([0x86, 11]);
        body.extend(b"HTTPS://x/y");
        let mut value = vec![0x30, body.len() as u8];
        value.extend(&body);
        let sans = subject_alt_names(&value).unwrap();
        assert_eq!(sans.dns, ["a.example"]);
        assert_eq!(sans.emails, ["Me@Example.com"]);
        assert_eq!(sans.ips, ["10.0.0.1"]);
        assert_eq!(sans.uris, ["https://x/y"]);
        // Non-ASCII e-mail, IP of length 5, URI with a trailing-dot host.
        assert!(subject_alt_names(&[0x30, 3, 0x81, 1, 0xc3]).is_err());
        assert!(subject_alt_names(&[0x30, 7, 0x87, 5, 1, 2, 3, 4, 5]).is_err());
        let mut bad_uri = vec![0x30, 13, 0x86, 11];
        bad_uri.extend(b"https://x./");
        assert!(subject_alt_names(&bad_uri).is_err());
    }
}
