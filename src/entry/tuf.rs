//! `tuf` 0.0.1 (docs/INDEX_KEYS.md §4.8): `H(canon metadata)`, the metadata's role
//! (`_type`, verbatim) and decimal version, then `H(canon root)`.
//!
//! The stored root and metadata are decoded as Go decodes them (go-tuf's
//! `data.Signed`, then `data.Root` for the root and Rekor's `signedMeta` for
//! the metadata), so JSON Go cannot decode is a parse error here too. What
//! Go's `NewPublicKey` does beyond decoding is the verification the log did
//! at upload, and it is not repeated (§10): no expiry check — a root that
//! has expired since upload is still indexed — and no key parsing, role
//! thresholds or root signatures either, for the same reason hashedrekord
//! signatures are not re-verified. A root whose canonical form fails is
//! left out silently, as in Go; for the metadata it is an error.

use super::gojson::{self, Kind, Value};
use super::gostruct::{
    check_bool, check_map, check_string, check_string_slice, check_time, decode_int, decode_string,
    decode_struct, Decoded, TypeError,
};
use super::spec;
use super::{sha256_hex, KeyError};
use crate::pki::jcs;
use crate::pki::tuf::{json_string, Signature, Signed};

pub fn index_keys(spec: Value<'_>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry: `content` is kept whatever its JSON type; `null` is nil.
    let content = |name: &str| {
        spec.get_object(name)
            .map(|o| o.get("content").filter(|c| c.kind() != Kind::Null))
    };
    let metadata = content("metadata");
    let root = content("root");

    // Model validation and Validate().
    let Some(metadata) = metadata else {
        return Err(KeyError::new("metadata in body is required"));
    };
    let Some(root) = root else {
        return Err(KeyError::new("root in body is required"));
    };
    let Some(metadata) = metadata else {
        return Err(KeyError::new("metadata.content in body is required"));
    };
    let Some(root) = root else {
        return Err(KeyError::new("root.content in body is required"));
    };

    // IndexKeys.
    let root_bytes = content_bytes(root, "root")?;
    let metadata_bytes = content_bytes(metadata, "metadata")?;
    let root = decode_root(&root_bytes)?;
    let (metadata, role, version) = decode_metadata(&metadata_bytes)?;
    let canonical = metadata
        .canonical_value()
        .map_err(|e| KeyError::new(format!("canonicalizing TUF metadata: {e}")))?;
    let mut keys = vec![sha256_hex(&canonical), role, version.to_string()];
    if let Ok(canonical_root) = root.canonical_value() {
        keys.push(sha256_hex(&canonical_root));
    }
    Ok(keys)
}

/// `parseRootContent` / `parseMetadataContent`: a string is base64, any
/// other value is re-encoded with Go's `json.Marshal`.
fn content_bytes(content: Value<'_>, what: &str) -> Result<Vec<u8>, KeyError> {
    match content.as_str() {
        Some(text) => spec::decode_base64(&text, &format!("TUF {what} content")),
        None => go_marshal(content),
    }
}

/// Go `json.Marshal` of a value decoded into `interface{}` (numbers as
/// `json.Number`): object members sorted by name, a repeated name keeps
/// its last value, strings re-escaped, numbers copied.
fn go_marshal(v: Value<'_>) -> Result<Vec<u8>, KeyError> {
    let mut out = Vec::with_capacity(v.raw().len());
    write_go_json(v, &mut out, 0)?;
    Ok(out)
}

fn write_go_json(v: Value<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), KeyError> {
    // The canonicalizer refuses deeper input anyway; stop before the stack.
    if depth > jcs::MAX_NESTING {
        return Err(KeyError::new("TUF content nested too deeply"));
    }
    match v.kind() {
        Kind::Object => {
            let mut members: Vec<(String, Value<'_>)> = Vec::new();
            for (key, value) in v.members() {
                match members.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => members.push((key, value)),
                }
            }
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_string(out, &key);
                out.push(b':');
                write_go_json(value, out, depth + 1)?;
            }
            out.push(b'}');
        }
        Kind::Array => {
            out.push(b'[');
            for (i, item) in v.elements().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_go_json(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Kind::String => json_string(out, &v.as_str().unwrap_or_default()),
        Kind::Number | Kind::Bool | Kind::Null => out.extend_from_slice(v.raw()),
    }
    Ok(())
}

/// `json.Unmarshal(bytes, &data.Signed{})`.
fn decode_signed(bytes: &[u8]) -> Result<Signed, KeyError> {
    let top = gojson::unmarshal(bytes)?;
    let mut signed = Signed::default();
    // Slice elements Go decoded into earlier stay behind the slice's length
    // and are decoded into again when a later `signatures` array reaches
    // them (a repeated member); `len` is the slice length.
    let mut slots: Vec<Signature> = Vec::new();
    let mut len: Option<usize> = None;
    decode_struct(top, &["signed", "signatures"], |i, v| {
        if i == 0 {
            // json.RawMessage: any value, `null` included, as written.
            signed.signed = Some(v.raw().to_vec());
            return Ok(());
        }
        match v.kind() {
            Kind::Null => {
                slots.clear();
                len = None;
                Ok(())
            }
            Kind::Array => {
                let mut n = 0;
                for item in v.elements() {
                    if n == slots.len() {
                        slots.push(Signature::default());
                    }
                    decode_signature(item, &mut slots[n])?;
                    n += 1;
                }
                if n == 0 {
                    slots.clear();
                }
                len = Some(n);
                Ok(())
            }
            _ => Err(TypeError),
        }
    })
    .map_err(|TypeError| KeyError::new("json: cannot unmarshal TUF metadata into data.Signed"))?;
    signed.signatures = len.map(|n| slots[..n].to_vec());
    Ok(signed)
}

/// One `data.Signature`: `keyid` a string, `sig` go-tuf's `HexBytes`
/// (a JSON string of even length whose raw text is hex, escapes not
/// processed; `null` is not accepted).
fn decode_signature(v: Value<'_>, slot: &mut Signature) -> Decoded {
    decode_struct(v, &["keyid", "sig"], |i, f| {
        if i == 0 {
            return decode_string(f, &mut slot.keyid);
        }
        let raw = f.raw();
        if raw.len() < 2 || raw.len() % 2 != 0 || raw[0] != b'"' || raw[raw.len() - 1] != b'"' {
            return Err(TypeError);
        }
        slot.sig = hex::decode(&raw[1..raw.len() - 1]).map_err(|_| TypeError)?;
        Ok(())
    })
}

/// The `signed` part decoded again into a Go struct: absent is an error
/// (`json.Unmarshal` of no bytes), `null` decodes to nothing.
fn signed_value(signed: &Signed) -> Result<Value<'_>, KeyError> {
    match &signed.signed {
        Some(raw) => Ok(gojson::unmarshal(raw)?),
        None => Err(KeyError::new("unexpected end of JSON input")),
    }
}

/// The root: `data.Signed`, then `data.Root` (types only; see the module
/// docs for what is not checked).
fn decode_root(bytes: &[u8]) -> Result<Signed, KeyError> {
    let root = decode_signed(bytes)?;
    const FIELDS: &[&str] = &[
        "_type",
        "spec_version",
        "version",
        "expires",
        "keys",
        "roles",
        "custom",
        "consistent_snapshot",
    ];
    decode_struct(signed_value(&root)?, FIELDS, |i, v| match i {
        0 | 1 => check_string(v),
        2 => decode_int(v, &mut 0),
        3 => check_time(v),
        4 => check_map(v, |key| {
            decode_struct(
                key,
                &["keytype", "scheme", "keyid_hash_algorithms", "keyval"],
                |j, f| match j {
                    0 | 1 => check_string(f),
                    2 => check_string_slice(f),
                    _ => Ok(()),
                },
            )
        }),
        5 => check_map(v, |role| {
            decode_struct(role, &["keyids", "threshold"], |j, f| match j {
                0 => check_string_slice(f),
                _ => decode_int(f, &mut 0),
            })
        }),
        6 => check_any_raw(v),
        _ => check_bool(v),
    })
    .map_err(|TypeError| KeyError::new("json: cannot unmarshal TUF root into data.Root"))?;
    Ok(root)
}

/// A `*json.RawMessage` field accepts any value.
fn check_any_raw(_: Value<'_>) -> Decoded {
    Ok(())
}

/// The metadata: `data.Signed`, then Rekor's `signedMeta` (`_type`,
/// `expires`, `version` as a Go `int`, `spec_version`).
fn decode_metadata(bytes: &[u8]) -> Result<(Signed, String, i64), KeyError> {
    let metadata = decode_signed(bytes)?;
    let mut role = String::new();
    let mut version = 0;
    decode_struct(
        signed_value(&metadata)?,
        &["_type", "expires", "version", "spec_version"],
        |i, v| match i {
            0 => decode_string(v, &mut role),
            1 => check_time(v),
            2 => decode_int(v, &mut version),
            _ => check_string(v),
        },
    )
    .map_err(|TypeError| KeyError::new("json: cannot unmarshal TUF metadata into signedMeta"))?;
    Ok((metadata, role, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_marshal_sorts_members_and_keeps_the_last_duplicate() {
        let v = gojson::unmarshal(br#"{"b":[1.50,"x\u003c"],"a":1,"b":true}"#).unwrap();
        assert_eq!(go_marshal(v).unwrap(), br#"{"a":1,"b":true}"#);
        let v = gojson::unmarshal(br#"[1.50,"x\u003c\n"]"#).unwrap();
        assert_eq!(go_marshal(v).unwrap(), b"[1.50,\"x<\\u000a\"]");
        // Data read back the way Go's decoder does: an unpaired surrogate
        // escape becomes U+FFFD.
        let v = gojson::unmarshal(br#""\ud800""#).unwrap();
        assert_eq!(go_marshal(v).unwrap(), "\"\u{fffd}\"".as_bytes());
    }

    #[test]
    fn signed_decoding_follows_go() {
        let s =
            decode_signed(br#"{"SIGNED":{"a":1},"signatures":[{"keyid":"k","sig":"AB"},null]}"#)
                .unwrap();
        assert_eq!(s.signed.as_deref(), Some(&br#"{"a":1}"#[..]));
        let sigs = s.signatures.unwrap();
        assert_eq!(sigs.len(), 2);
        assert_eq!(sigs[0].sig, [0xab]);
        assert_eq!(sigs[1], Signature::default());
        // A repeated array decodes into the elements already there.
        let s = decode_signed(
            br#"{"signatures":[{"keyid":"a","sig":"00"},{"keyid":"b"}],"signatures":[{"sig":"11"}]}"#,
        )
        .unwrap();
        assert_eq!(
            s.signatures.unwrap(),
            [Signature {
                keyid: "a".into(),
                sig: vec![0x11]
            }]
        );
        assert!(decode_signed(br#"{"signatures":[{"sig":null}]}"#).is_err());
        assert!(decode_signed(br#"{"signatures":[{"sig":"abc"}]}"#).is_err());
        assert!(decode_signed(br#"{"signatures":[{"sig":"\u0030\u0030"}]}"#).is_err());
        assert!(decode_signed(br#"{"signatures":[1]}"#).is_err());
        assert!(decode_signed(b"[]").is_err());
        let s = decode_signed(b"null").unwrap();
        assert_eq!(s, Signed::default());
    }

    #[test]
    fn metadata_needs_signed_and_go_types() {
        let ok = br#"{"signed":{"_type":"Targets","version":-3,"expires":"2030-01-01T00:00:00Z"},"signatures":[]}"#;
        let (_, role, version) = decode_metadata(ok).unwrap();
        assert_eq!((role.as_str(), version), ("Targets", -3));
        assert!(decode_metadata(br#"{"signatures":[]}"#).is_err());
        assert!(decode_metadata(br#"{"signed":{"version":1.5}}"#).is_err());
        assert!(decode_metadata(br#"{"signed":{"expires":"tomorrow"}}"#).is_err());
        assert!(decode_metadata(br#"{"signed":"x"}"#).is_err());
        let (_, role, version) = decode_metadata(br#"{"signed":null}"#).unwrap();
        assert_eq!((role.as_str(), version), ("", 0));
    }

    #[test]
    fn root_types_are_checked_but_nothing_is_verified() {
        let root = br#"{"signed":{"_type":"root","version":1,"expires":"2000-01-01T00:00:00Z","keys":{"k":{"keytype":"ed25519","keyval":{"public":"zz"}}},"roles":{"root":{"keyids":["k"],"threshold":0}}},"signatures":[]}"#;
        assert!(decode_root(root).is_ok());
        assert!(decode_root(br#"{"signed":{"keys":[]}}"#).is_err());
        assert!(decode_root(br#"{"signed":{"roles":{"r":{"threshold":"1"}}}}"#).is_err());
        assert!(decode_root(br#"{"signed":{"consistent_snapshot":1}}"#).is_err());
        assert!(decode_root(br#"{"signatures":[]}"#).is_err());
    }
}
