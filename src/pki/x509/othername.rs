//! Sigstore's Fulcio username SAN (`UnmarshalOtherNameSAN`, sigstore
//! v1.10.9 `pkg/cryptoutils/sans.go`).
//!
//! Fulcio puts a username in an OtherName with OID 1.3.6.1.4.1.57264.1.7.
//! Sigstore reads it with `encoding/asn1` and all-or-nothing rules: any
//! GeneralName with tag number 0 that is not a well-formed OtherName of that
//! OID, or more than one of them, means no OtherName subject at all.

use super::extensions::Extension;
use crate::pki::der::{asn1_element, asn1_header, go_asn1_string, tag, Oid};

/// 2.5.29.17
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
/// 1.3.6.1.4.1.57264.1.7
const OID_FULCIO_USERNAME: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x07];

/// The single Fulcio OtherName value, if Sigstore would find exactly one.
pub fn fulcio_username(extensions: &[Extension<'_>]) -> Option<String> {
    let mut names = Vec::new();
    for e in extensions.iter().filter(|e| e.id.bytes() == OID_SAN) {
        let (seq, rest) = asn1_element(e.value)?;
        if !rest.is_empty() {
            return None;
        }
        let h = seq.header;
        if !(h.constructed && h.tag == 16 && h.class == 0) {
            return None;
        }
        let mut rest = seq.contents;
        while !rest.is_empty() {
            let (name, after) = asn1_element(rest)?;
            rest = after;
            if name.header.tag != 0 {
                continue;
            }
            names.push(other_name(name.full)?);
        }
    }
    match names.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    }
}

/// `asn1.UnmarshalWithParams(b, &OtherName{}, "tag:0")` where OtherName is
/// `{ID asn1.ObjectIdentifier; Value string "utf8,explicit,tag:0"}`, and the
/// OID must be Fulcio's. Trailing data is ignored, as Go ignores it.
fn other_name(full: &[u8]) -> Option<String> {
    let (outer, _) = asn1_element(full)?;
    let h = outer.header;
    if !(h.class == 2 && h.tag == 0 && h.constructed) {
        return None;
    }
    let fields = outer.contents;

    // ID: universal OBJECT IDENTIFIER, primitive.
    let (id, after_id) = asn1_element(fields)?;
    if !(id.header.class == 0 && id.header.tag == u32::from(tag::OID) && !id.header.constructed) {
        return None;
    }
    if Oid::parse(id.contents)?.bytes() != OID_FULCIO_USERNAME {
        return None;
    }

    // Value: [0] EXPLICIT wrapper. Go checks only the wrapper's header, then
    // reads the inner element right after it, bounded by the OtherName
    // contents rather than by the wrapper's own length.
    let explicit = asn1_header(after_id)?;
    let after_header = &after_id[explicit.header_len..];
    if after_header.is_empty() {
        return None; // explicit tag has no child
    }
    if !(explicit.class == 2 && explicit.tag == 0 && (explicit.length == 0 || explicit.constructed))
    {
        return None;
    }
    if explicit.length == 0 {
        return None; // only an asn1.Flag may be empty
    }
    let (inner, _) = asn1_element(after_header)?;
    let ih = inner.header;
    // Universal string types Go maps to a Go string; PrintableString is the
    // default, a context/other class would take the `utf8` parameter.
    let string_tag = if ih.class == 0 {
        match u8::try_from(ih.tag).ok()? {
            t @ (tag::IA5_STRING
            | tag::GENERAL_STRING
            | tag::T61_STRING
            | tag::UTF8_STRING
            | tag::NUMERIC_STRING
            | tag::BMP_STRING
            | tag::PRINTABLE_STRING) => t,
            _ => return None,
        }
    } else {
        return None; // class differs from universal: tags don't match
    };
    if ih.constructed {
        return None;
    }
    go_asn1_string(string_tag, inner.contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::der::Der;
    use crate::pki::x509::spki::tlv;

    fn other(oid: &[u8], value: Vec<u8>) -> Vec<u8> {
        tlv(0xa0, &[tlv(tag::OID, oid), tlv(0xa0, &value)].concat())
    }

    fn san_ext(names: &[Vec<u8>]) -> Vec<u8> {
        tlv(tag::SEQUENCE, &names.concat())
    }

    fn run(value: &[u8]) -> Option<String> {
        let oid = Der::new(&[0x06, 0x03, 0x55, 0x1d, 0x11])
            .read_oid()
            .unwrap();
        fulcio_username(&[Extension {
            id: oid,
            critical: false,
            value,
        }])
    }

    #[test]
    fn single_fulcio_other_name_is_returned() {
        let ext = san_ext(&[
            tlv(0x81, b"me@example.com"),
            other(
                OID_FULCIO_USERNAME,
                tlv(tag::UTF8_STRING, "björn".as_bytes()),
            ),
        ]);
        assert_eq!(run(&ext).as_deref(), Some("björn"));
    }

    #[test]
    fn foreign_oid_duplicate_or_malformed_drops_it() {
        let good = other(OID_FULCIO_USERNAME, tlv(tag::UTF8_STRING, b"u"));
        let foreign = other(
            &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x01],
            tlv(tag::UTF8_STRING, b"x"),
        );
        assert_eq!(run(&san_ext(&[good.clone(), foreign])), None);
        assert_eq!(run(&san_ext(&[good.clone(), good.clone()])), None);
        // Value not a string type.
        let octets = other(OID_FULCIO_USERNAME, tlv(tag::OCTET_STRING, b"u"));
        assert_eq!(run(&san_ext(&[octets])), None);
        // Trailing data after the SAN SEQUENCE.
        let mut trailing = san_ext(std::slice::from_ref(&good));
        trailing.push(0);
        assert_eq!(run(&trailing), None);
        // Other string types Go accepts.
        let ia5 = other(OID_FULCIO_USERNAME, tlv(tag::IA5_STRING, b"ia5"));
        assert_eq!(run(&san_ext(&[ia5])).as_deref(), Some("ia5"));
        assert_eq!(run(&san_ext(&[])), None);
    }
}
