//! Public-key and signature formats that entry kinds reference: each yields
//! a canonical byte form (hashed into a key) and a list of subjects.
//!
//! Index keys are hashes of bytes Go produced, so "parses" and "canonical
//! form" must mean what they mean in Rekor's Go code (v1.5.4, built with Go
//! 1.26): a key Go rejects is a parse error, a key Go re-encodes is hashed in
//! its re-encoded form. The Go runtime pieces that shape those bytes — base64,
//! PEM, DER readers, time and name rendering, string casing — each live in
//! one module here; the formats ([`x509`], [`pgp`], [`minisign`], [`ssh`]) build on
//! them; [`pkcs7`] carries a port of Go's `encoding/asn1` for relic's
//! PKCS #7 types; [`tuf`] hashes through [`jcs`], a port of the Go RFC 8785
//! canonicalizer Rekor uses.

pub mod cose;
pub mod der;
pub mod ec;
pub mod email;
pub mod gobase64;
pub mod goname;
pub mod gostr;
pub mod gotime;
pub mod jcs;
pub mod key_cache;
pub mod minisign;
pub mod pem;
pub mod pgp;
pub mod pkcs7;
pub mod ssh;
pub mod tuf;
pub mod x509;

use std::fmt;

use crate::error::ErrorKind;

/// Why a key could not be parsed or canonicalised: its kind, and a message
/// in Go's words where Go has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkiError {
    kind: ErrorKind,
    message: String,
}

impl PkiError {
    /// Malformed key material (what Go's parsers reject).
    pub fn decode(message: impl Into<String>) -> PkiError {
        PkiError::new(ErrorKind::Decode, message)
    }

    /// A well-formed key of a type or algorithm Rekor does not handle.
    pub fn unsupported(message: impl Into<String>) -> PkiError {
        PkiError::new(ErrorKind::Unsupported, message)
    }

    /// Key material over one of our resource limits.
    pub fn limit(message: impl Into<String>) -> PkiError {
        PkiError::new(ErrorKind::Limit, message)
    }

    pub fn new(kind: ErrorKind, message: impl Into<String>) -> PkiError {
        PkiError {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PkiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PkiError {}

/// Rekor's `pki.PublicKey` as far as index keys need it.
pub trait PublicKey {
    /// The bytes Rekor hashes for the key-hash index key.
    fn canonical_value(&self) -> Result<Vec<u8>, PkiError>;

    /// Identities bound to the key (certificate SANs, e-mails), in Go's
    /// order, not lowercased.
    fn subjects(&self) -> Vec<String>;
}
