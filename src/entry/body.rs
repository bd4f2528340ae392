//! The stored body's envelope — `kind`, `apiVersion`, `spec` — and the
//! dispatch to the kind that computes the keys.
//!
//! Mirrors `models.UnmarshalProposedEntry` (Go `json.Decoder` into a
//! struct: first JSON value only, case-insensitive field names, `null`
//! leaves a string field alone) and `types.UnmarshalEntry` (known kind,
//! non-nil apiVersion, exact version match), so an envelope Go rejects is
//! rejected here with a Go-like message.

use super::gojson::{self, field_matches, Kind, Value};
use super::{
    alpine, cose, dsse, hashedrekord, helm, intoto, jar, rekord, rfc3161, rpm, tuf, KeyError,
};

/// How one kind version computes its keys: from the decoded `spec` and,
/// for the kinds that read it, the entry's stored attestation.
type Decoder = for<'a, 'b> fn(Value<'a>, Option<&'b [u8]>) -> Result<Vec<String>, KeyError>;

/// One version of a kind, and its decoder.
struct KindVersion {
    kind: &'static str,
    version: &'static str,
    decode: Decoder,
}

/// Every kind version Rekor v1.5.4 registers (`types.TypeMap` and each
/// kind's `VersionMap`), sorted by kind then version: the one table of
/// kinds. A kind cannot be listed without its decoder, so no known kind
/// falls through to "not implemented"; the order, and so the absence of
/// duplicates, is checked at compile time below.
///
/// A new kind: a module under `src/entry/` with its `index_keys`, one line
/// here, and its corpus/parity entries (docs/ARCHITECTURE.md).
const KINDS: &[KindVersion] = &[
    KindVersion {
        kind: "alpine",
        version: "0.0.1",
        decode: |spec, _| alpine::index_keys(spec),
    },
    KindVersion {
        kind: "cose",
        version: "0.0.1",
        decode: cose::index_keys,
    },
    KindVersion {
        kind: "dsse",
        version: "0.0.1",
        decode: dsse::index_keys,
    },
    KindVersion {
        kind: "hashedrekord",
        version: "0.0.1",
        decode: |spec, _| hashedrekord::index_keys(spec),
    },
    KindVersion {
        kind: "helm",
        version: "0.0.1",
        decode: |spec, _| helm::index_keys(spec),
    },
    KindVersion {
        kind: "intoto",
        version: "0.0.1",
        decode: intoto::index_keys_v001,
    },
    KindVersion {
        kind: "intoto",
        version: "0.0.2",
        decode: intoto::index_keys_v002,
    },
    KindVersion {
        kind: "jar",
        version: "0.0.1",
        decode: |spec, _| jar::index_keys(spec),
    },
    KindVersion {
        kind: "rekord",
        version: "0.0.1",
        decode: |spec, _| rekord::index_keys(spec),
    },
    KindVersion {
        kind: "rfc3161",
        version: "0.0.1",
        decode: |spec, _| rfc3161::index_keys(spec),
    },
    KindVersion {
        kind: "rpm",
        version: "0.0.1",
        decode: |spec, _| rpm::index_keys(spec),
    },
    KindVersion {
        kind: "tuf",
        version: "0.0.1",
        decode: |spec, _| tuf::index_keys(spec),
    },
];

/// `KINDS` is strictly sorted by (kind, version): no kind version twice.
const _: () = {
    let mut i = 1;
    while i < KINDS.len() {
        let (a, b) = (&KINDS[i - 1], &KINDS[i]);
        let order = match str_cmp(a.kind, b.kind) {
            0 => str_cmp(a.version, b.version),
            o => o,
        };
        assert!(
            order < 0,
            "KINDS must be sorted by kind then version, without duplicates"
        );
        i += 1;
    }
};

/// Byte-wise comparison of two strings in a constant: -1, 0 or 1.
const fn str_cmp(a: &str, b: &str) -> i8 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return if a[i] < b[i] { -1 } else { 1 };
        }
        i += 1;
    }
    if a.len() == b.len() {
        0
    } else if a.len() < b.len() {
        -1
    } else {
        1
    }
}

/// The decoded envelope.
struct Envelope<'a> {
    kind: String,
    api_version: Option<String>,
    spec: Option<Value<'a>>,
}

/// Decodes the envelope and computes the keys of its kind.
pub fn index_keys(body: &[u8], attestation: Option<&[u8]>) -> Result<Vec<String>, KeyError> {
    let envelope = decode(body)?;
    let kind = envelope.kind.as_str();
    if kind == "ProposedEntry" {
        return Err(KeyError::new(
            "could not unmarshal entry for kind 'ProposedEntry'",
        ));
    }
    if !KINDS.iter().any(|k| k.kind == kind) {
        return Err(KeyError::new(format!("invalid kind value: {kind:?}")));
    }
    let Some(version) = envelope.api_version.as_deref() else {
        return Err(KeyError::new("api version cannot be nil"));
    };
    let Some(entry) = KINDS
        .iter()
        .find(|k| k.kind == kind && k.version == version)
    else {
        return Err(KeyError::new(format!(
            "{kind} implementation for version '{version}' not found: unable to locate entry for version {version}"
        )));
    };
    let spec = match envelope.spec {
        Some(v) if v.kind() == Kind::Object => v,
        Some(v) => {
            return Err(KeyError::new(format!(
                "unsupported input type {} for DecodeEntry",
                go_type_name(v.kind())
            )))
        }
        None => {
            return Err(KeyError::new(
                "unsupported input type <nil> for DecodeEntry",
            ))
        }
    };
    (entry.decode)(spec, attestation)
}

/// Go `fastUnmarshalTargetedProposedEntryReader`.
fn decode(body: &[u8]) -> Result<Envelope<'_>, KeyError> {
    let top = gojson::decode_first(body)?;
    let mut envelope = Envelope {
        kind: String::new(),
        api_version: None,
        spec: None,
    };
    match top.kind() {
        Kind::Null => {}
        Kind::Object => {
            for (key, value) in top.members() {
                if field_matches(&key, "kind") {
                    match value.kind() {
                        Kind::String => envelope.kind = value.as_str().unwrap_or_default(),
                        Kind::Null => {}
                        other => return Err(type_error(other, "kind", "string")),
                    }
                } else if field_matches(&key, "apiVersion") {
                    match value.kind() {
                        Kind::String => envelope.api_version = value.as_str(),
                        Kind::Null => envelope.api_version = None,
                        other => return Err(type_error(other, "apiVersion", "string")),
                    }
                } else if field_matches(&key, "spec") {
                    envelope.spec = (value.kind() != Kind::Null).then_some(value);
                }
            }
        }
        other => {
            return Err(KeyError::new(format!(
                "json: cannot unmarshal {} into Go value of type models.targetedProposedEntry",
                json_type_name(other)
            )))
        }
    }
    if envelope.kind.is_empty() {
        return Err(KeyError::new("kind in body is required"));
    }
    Ok(envelope)
}

fn type_error(kind: Kind, field: &str, want: &str) -> KeyError {
    KeyError::new(format!(
        "json: cannot unmarshal {} into Go struct field .{field} of type {want}",
        json_type_name(kind)
    ))
}

fn json_type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Object => "object",
        Kind::Array => "array",
        Kind::String => "string",
        Kind::Number => "number",
        Kind::Bool => "bool",
        Kind::Null => "null",
    }
}

/// The Go type a non-object `spec` decodes to, for Go's error message.
fn go_type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Object => "map[string]interface {}",
        Kind::Array => "[]interface {}",
        Kind::String => "string",
        Kind::Number => "json.Number",
        Kind::Bool => "bool",
        Kind::Null => "<nil>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        index_keys(body.as_bytes(), None).unwrap_err().0
    }

    #[test]
    fn envelope_errors_are_go_like() {
        assert_eq!(
            err(r#"{"kind":"nope","apiVersion":"0.0.1","spec":{}}"#),
            "invalid kind value: \"nope\""
        );
        assert_eq!(
            err(r#"{"apiVersion":"0.0.1","spec":{}}"#),
            "kind in body is required"
        );
        assert_eq!(
            err(r#"{"kind":"rekord","spec":{}}"#),
            "api version cannot be nil"
        );
        assert_eq!(
            err(r#"{"kind":"rekord","apiVersion":"0.0.2","spec":{}}"#),
            "rekord implementation for version '0.0.2' not found: unable to locate entry for version 0.0.2"
        );
        assert!(err(r#"{"kind":"rekord","apiVersion":"0.0.1","spec":[]}"#)
            .contains("unsupported input type"));
        assert!(err(r#"{"kind":"rekord","apiVersion":"0.0.1"}"#).contains("<nil>"));
        assert!(err(r#"{"kind":5}"#).contains("cannot unmarshal number"));
        assert!(err(r#"[]"#).contains("cannot unmarshal array"));
        assert!(err(r#"{"kind":"rekord","apiVersion":"0.0.1","spec":{"#).contains("JSON"));
        assert!(
            err(r#"{"kind":"ProposedEntry","apiVersion":"0.0.1","spec":{}}"#)
                .contains("ProposedEntry")
        );
    }

    #[test]
    fn envelope_fields_fold_case_and_null_keeps_kind() {
        // Upper-case field names match; a later null kind is ignored; only
        // the first JSON value is read.
        let e = decode(br#"{"KIND":"jar","kind":null,"ApiVersion":"0.0.1","Spec":{}} trailing"#)
            .unwrap();
        assert_eq!(e.kind, "jar");
        assert_eq!(e.api_version.as_deref(), Some("0.0.1"));
        assert!(e.spec.is_some());
        // A later null apiVersion resets it (pointer field).
        let e = decode(br#"{"kind":"jar","apiVersion":"0.0.1","apiVersion":null}"#).unwrap();
        assert!(e.api_version.is_none());
    }
}
