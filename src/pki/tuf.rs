//! TUF metadata as go-tuf v0.7.0's `data.Signed` holds it, and its
//! canonical form (Rekor `pkg/pki/tuf`).
//!
//! Rekor hashes `JCS(json.Marshal(data.Signed))` for both the metadata and
//! the root: the `signed` object as it was written, then the signatures
//! with only `keyid` and `sig` kept and `sig` re-encoded as lowercase hex.
//! Decoding (Go's JSON rules) is the entry's job; this is the Go type and
//! its canonical bytes.

use super::{jcs, PkiError};

/// `data.Signed`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signed {
    /// The raw JSON of `signed` (`json.RawMessage`; `None` when absent).
    pub signed: Option<Vec<u8>>,
    /// `None` for a nil slice (absent or `null`).
    pub signatures: Option<Vec<Signature>>,
}

/// `data.Signature`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signature {
    pub keyid: String,
    pub sig: Vec<u8>,
}

impl Signed {
    /// `CanonicalValue()`: the JCS transform of Go's `json.Marshal`.
    pub fn canonical_value(&self) -> Result<Vec<u8>, PkiError> {
        jcs::transform(&self.go_marshal())
    }

    /// Go `json.Marshal(data.Signed)`, up to what JCS normalises anyway
    /// (insignificant whitespace, the choice of string escapes).
    fn go_marshal(&self) -> Vec<u8> {
        let mut out = b"{\"signed\":".to_vec();
        match &self.signed {
            Some(raw) => out.extend_from_slice(raw),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"signatures\":");
        match &self.signatures {
            None => out.extend_from_slice(b"null"),
            Some(signatures) => {
                out.push(b'[');
                for (i, s) in signatures.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"keyid\":");
                    json_string(&mut out, &s.keyid);
                    out.extend_from_slice(b",\"sig\":\"");
                    out.extend_from_slice(hex::encode(&s.sig).as_bytes());
                    out.extend_from_slice(b"\"}");
                }
                out.push(b']');
            }
        }
        out.push(b'}');
        out
    }
}

/// A JSON string literal for `s`: quotes, backslashes and control
/// characters escaped, everything else as UTF-8.
pub fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b if b < 0x20 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            b => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_keeps_signed_and_normalises_signatures() {
        let s = Signed {
            signed: Some(br#"{ "version": 1.0, "_type": "root" }"#.to_vec()),
            signatures: Some(vec![Signature {
                keyid: "k\"1".into(),
                sig: vec![0xab, 0x01],
            }]),
        };
        assert_eq!(
            String::from_utf8(s.canonical_value().unwrap()).unwrap(),
            r#"{"signatures":[{"keyid":"k\"1","sig":"ab01"}],"signed":{"_type":"root","version":1}}"#
        );
        let empty = Signed::default();
        assert_eq!(
            empty.canonical_value().unwrap(),
            br#"{"signatures":null,"signed":null}"#
        );
    }
}
