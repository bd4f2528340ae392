//! Building blocks of Rekor's per-kind `DecodeEntry` + model validation,
//! shared by the kinds.
//!
//! Every kind reads `spec` as a Go `map[string]any` by exact key, silently
//! ignores fields of the wrong JSON type, base64-decodes non-empty strings
//! (a bad one is an error), and validates `{algorithm, value}` hash objects
//! with go-openapi's `Required` and `EnumCase` rules.

use super::gojson::Value;
use super::{sha256_hex, KeyError};
use crate::pki::gobase64;
use crate::pki::x509::X509Key;
use crate::pki::PublicKey;

/// A `{algorithm, value}` object as `DecodeEntry` builds it: present when
/// the JSON value is an object; each field present when it is a string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hash {
    pub algorithm: Option<String>,
    pub value: Option<String>,
}

impl Hash {
    /// `obj[key]` as a hash object, if it is an object.
    pub fn read(obj: &Value<'_>, key: &str) -> Option<Hash> {
        obj.get_object(key).map(|h| Hash {
            algorithm: h.get_str("algorithm"),
            value: h.get_str("value"),
        })
    }

    /// go-openapi validation of a non-nil hash object: `algorithm` required
    /// and one of `allowed`, `value` required.
    pub fn validate(&self, path: &str, allowed: &[&str]) -> Result<(), KeyError> {
        let Some(algorithm) = &self.algorithm else {
            return Err(KeyError::decode(format!(
                "{path}.algorithm in body is required"
            )));
        };
        if !allowed.contains(&algorithm.as_str()) {
            return Err(KeyError::decode(format!(
                "{path}.algorithm in body should be one of {allowed:?}"
            )));
        }
        if self.value.is_none() {
            return Err(KeyError::decode(format!(
                "{path}.value in body is required"
            )));
        }
        Ok(())
    }

    /// The `{sha256, H(bytes)}` object Go computes when it re-derives a hash
    /// (from a stored envelope or payload).
    pub fn sha256_of(bytes: &[u8]) -> Hash {
        Hash {
            algorithm: Some("sha256".into()),
            value: Some(sha256_hex(bytes)),
        }
    }

    /// The cross-field check rekord, alpine and jar make on a present hash:
    /// the value is exactly 64 hex characters (either case).
    pub fn check_sha256_value(&self) -> Result<(), KeyError> {
        let value = self.value.as_deref().unwrap_or_default();
        if value.len() != 64 || hex::decode(value).is_err() {
            return Err(KeyError::decode("invalid value for hash"));
        }
        Ok(())
    }

    /// `HK(algorithm, value)` when both fields are present.
    pub fn key(&self) -> Option<String> {
        match (&self.algorithm, &self.value) {
            (Some(a), Some(v)) => Some(super::hash_key(a, v)),
            _ => None,
        }
    }
}

/// The signer keys of rpm, helm and alpine: `H(canon key)` as bare hex,
/// then the key's subjects; a key that cannot be canonicalised is an error.
pub fn key_hash_and_subjects(key: &impl PublicKey) -> Result<Vec<String>, KeyError> {
    let mut keys = vec![sha256_hex(&key.canonical_value()?)];
    keys.extend(key.subjects());
    Ok(keys)
}

/// The keys dsse and intoto 0.0.2 write per signature: `"sha256:" +
/// H(canon key)`, then the key's subjects. A key that does not parse or
/// cannot be canonicalised is an error for the whole entry.
pub fn signer_keys(public_key: &[u8]) -> Result<Vec<String>, KeyError> {
    let key = X509Key::parse(public_key)?;
    let canonical = key
        .canonical_value()
        .map_err(|e| KeyError::decode(format!("could not canonicalize key: {e}")))?;
    let mut keys = vec![format!("sha256:{}", sha256_hex(&canonical))];
    keys.extend(key.subjects());
    Ok(keys)
}

/// A signature's decoded content and its public key's (see
/// [`signature_contents`]).
pub type SignatureContents = (Option<Vec<u8>>, Option<Option<Vec<u8>>>);

/// `DecodeEntry` of a `signature` object: its `content`, then the content
/// of its `publicKey` object (outer `None`: no such object; inner `None`:
/// the object holds no content). `public_key_what` names that field in
/// errors, as each kind's Go code does.
pub fn signature_contents(
    sig: &Value<'_>,
    public_key_what: &str,
) -> Result<SignatureContents, KeyError> {
    let content = base64_field(sig, "content", "signature content")?;
    let public_key = match sig.get_object("publicKey") {
        Some(pk) => Some(base64_field(&pk, "content", public_key_what)?),
        None => None,
    };
    Ok((content, public_key))
}

/// `DecodeEntry`'s base64 rule: a non-empty string at `obj[key]` is decoded
/// (failure is an error); an empty string or any other JSON type is absent.
pub fn base64_field(obj: &Value<'_>, key: &str, what: &str) -> Result<Option<Vec<u8>>, KeyError> {
    match obj.get_str(key) {
        Some(s) if !s.is_empty() => decode_base64(&s, what).map(Some),
        _ => Ok(None),
    }
}

/// Go `base64.StdEncoding.Decode` of a spec string, with Rekor's message.
pub fn decode_base64(s: &str, what: &str) -> Result<Vec<u8>, KeyError> {
    gobase64::decode(s.as_bytes())
        .map_err(|e| KeyError::decode(format!("failed parsing base64 data for {what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::gojson::unmarshal;

    #[test]
    fn hash_objects_follow_decode_entry_and_validation() {
        let v =
            unmarshal(br#"{"h":{"algorithm":"sha256","value":"AB"},"n":{"algorithm":5},"s":"x"}"#)
                .unwrap();
        let h = Hash::read(&v, "h").unwrap();
        assert_eq!(h.key().as_deref(), Some("sha256:ab"));
        assert!(h.validate("data.hash", &["sha256"]).is_ok());
        assert!(h.validate("data.hash", &["sha512"]).is_err());
        let n = Hash::read(&v, "n").unwrap();
        assert_eq!(n, Hash::default());
        assert!(n.validate("x", &["sha256"]).is_err());
        assert!(Hash::read(&v, "s").is_none());
    }

    #[test]
    fn base64_fields_skip_empty_and_reject_bad() {
        let v = unmarshal(br#"{"a":"aGk=","e":"","n":1,"bad":"a-b_"}"#).unwrap();
        assert_eq!(base64_field(&v, "a", "a").unwrap().unwrap(), b"hi");
        assert!(base64_field(&v, "e", "e").unwrap().is_none());
        assert!(base64_field(&v, "n", "n").unwrap().is_none());
        assert!(base64_field(&v, "missing", "m").unwrap().is_none());
        assert!(base64_field(&v, "bad", "bad").is_err());
    }
}
