//! Rekor's x509 public keys (`pkg/pki/x509`): a bare `PUBLIC KEY`, one
//! `CERTIFICATE`, or a PEM chain of up to 10 certificates.
//!
//! `NewPublicKey` trims the input, decodes the first PEM block, and switches
//! to chain mode if anything follows it. The canonical value re-encodes a
//! bare key (Go `MarshalPKIXPublicKey`) but keeps certificate DER verbatim;
//! subjects come from the (first) certificate only. Certificate and key
//! parsing follow Go 1.26 exactly (see `cert.rs`, `spki.rs`), because a key Go
//! refuses means the entry gets no keys.

mod cert;
mod extensions;
mod othername;
mod spki;

pub use cert::{parse_certificate, Certificate};
pub use spki::{marshal_pkix_public_key, parse_pkix_public_key, ParsedKey};

use super::gostr::trim_space;
use super::{pem, PkiError};

/// Sigstore's `UnmarshalCertificatesFromPEMLimited` limit used by Rekor.
pub const MAX_CHAIN_CERTIFICATES: usize = 10;

/// A parsed Rekor x509 key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum X509Key {
    /// A `PUBLIC KEY` block; the canonical SPKI DER, or why Go cannot
    /// re-encode it (DSA).
    Bare(Result<Vec<u8>, PkiError>),
    Certificate(Certificate),
    Chain(Vec<Certificate>),
}

impl X509Key {
    /// Rekor `x509.NewPublicKey`.
    pub fn parse(input: &[u8]) -> Result<X509Key, PkiError> {
        let trimmed = trim_space(input);
        let Some((block, rest)) = pem::decode(trimmed) else {
            return Err(PkiError::decode("invalid public key: failure decoding PEM"));
        };
        if !rest.is_empty() {
            return parse_chain(trimmed).map(X509Key::Chain);
        }
        match block.kind.as_slice() {
            b"PUBLIC KEY" => {
                let key = parse_pkix_public_key(&block.bytes)?;
                Ok(X509Key::Bare(marshal_pkix_public_key(&key)))
            }
            b"CERTIFICATE" => parse_certificate(&block.bytes).map(X509Key::Certificate),
            other => Err(PkiError::decode(format!(
                "invalid public key: cannot handle type {}",
                String::from_utf8_lossy(other)
            ))),
        }
    }

    /// The certificate whose SANs are the subjects.
    fn leaf(&self) -> Option<&Certificate> {
        match self {
            X509Key::Bare(_) => None,
            X509Key::Certificate(c) => Some(c),
            X509Key::Chain(chain) => chain.first(),
        }
    }
}

impl super::PublicKey for X509Key {
    fn canonical_value(&self) -> Result<Vec<u8>, PkiError> {
        match self {
            X509Key::Bare(der) => der
                .as_ref()
                .map(|der| pem::encode("PUBLIC KEY", der))
                .map_err(Clone::clone),
            X509Key::Certificate(c) => Ok(pem::encode("CERTIFICATE", &c.raw)),
            X509Key::Chain(chain) => Ok(chain
                .iter()
                .flat_map(|c| pem::encode("CERTIFICATE", &c.raw))
                .collect()),
        }
    }

    fn subjects(&self) -> Vec<String> {
        self.leaf().map(|c| c.subjects.clone()).unwrap_or_default()
    }
}

/// Sigstore `UnmarshalCertificatesFromPEMLimited(…, 10)`: every PEM block is
/// parsed as a certificate whatever its type; junk between blocks is
/// skipped by the PEM decoder, junk after the last one is an error.
fn parse_chain(trimmed: &[u8]) -> Result<Vec<Certificate>, PkiError> {
    let mut certs = Vec::new();
    let mut remaining = trim_space(trimmed);
    while !remaining.is_empty() {
        if certs.len() == MAX_CHAIN_CERTIFICATES {
            return Err(PkiError::limit(
                "too many certificates specified in PEM block",
            ));
        }
        let Some((block, rest)) = pem::decode(remaining) else {
            return Err(PkiError::decode("error during PEM decoding"));
        };
        certs.push(parse_certificate(&block.bytes)?);
        remaining = rest;
    }
    Ok(certs)
}
