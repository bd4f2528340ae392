//! PKCS #7 signatures (Rekor `pkg/pki/pkcs7`, relic v8 `lib/pkcs7`) and the
//! structure of an RFC 3161 timestamp response (relic `lib/pkcs9`).
//!
//! A JAR entry's key is `H(canon)` of its PKCS #7 signature, where canon is
//! the PEM of what relic writes after `Unmarshal` → `Detach` → `Marshal`:
//! the embedded content is dropped, algorithm identifiers and integers are
//! re-encoded, the digest-algorithm and signer-info SETs are sorted,
//! certificates and signer infos are copied. Those are Go `encoding/asn1`
//! rules, reproduced by [`goasn1`] over the Go types in [`schema`]. For a
//! stored (already canonical) signature this is the identity, which the
//! tests check on real signatures.

mod goasn1;
mod schema;

use goasn1::{Asn1Error, Params, Val};

use super::{pem, PkiError};

/// A parsed PKCS #7 signature: the DER relic would write for it, detached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkcs7Signature {
    detached: Vec<u8>,
}

impl Pkcs7Signature {
    /// Rekor `pkcs7.NewSignature`: PEM `PKCS7` or raw DER, then relic's
    /// `Unmarshal`, `Detach` and `Marshal`.
    pub fn parse(input: &[u8]) -> Result<Pkcs7Signature, PkiError> {
        let der = match pem::decode(input) {
            Some((block, _)) if block.kind == b"PKCS7" => block.bytes,
            Some((block, _)) => {
                return Err(PkiError::decode(format!(
                    "unknown PEM block type {} found during PKCS7 parsing",
                    String::from_utf8_lossy(&block.kind)
                )))
            }
            None => input.to_vec(),
        };
        let mut psd = unmarshal(&der)?;
        detach(&mut psd)?;
        let detached = goasn1::marshal(&psd, &schema::CONTENT_INFO_SIGNED_DATA, &Params::NONE)
            .map_err(asn1_error)?;
        Ok(Pkcs7Signature { detached })
    }

    /// The detached DER.
    pub fn der(&self) -> &[u8] {
        &self.detached
    }

    /// `CanonicalValue()`: PEM `PKCS7` of the detached DER.
    pub fn canonical_value(&self) -> Vec<u8> {
        pem::encode("PKCS7", &self.detached)
    }
}

/// relic `pkcs7.Unmarshal`: trailing bytes other than zeros are an error.
fn unmarshal(der: &[u8]) -> Result<Val<'_>, PkiError> {
    let (psd, rest) =
        goasn1::unmarshal(der, &schema::CONTENT_INFO_SIGNED_DATA).map_err(asn1_error)?;
    if rest.iter().any(|&b| b != 0) {
        return Err(PkiError::decode(
            "pkcs7: trailing garbage after PKCS#7 structure",
        ));
    }
    Ok(psd)
}

/// relic `ContentInfoSignedData.Detach`: reads the embedded content (which
/// can fail), then replaces the content info by one with only its type.
fn detach(psd: &mut Val<'_>) -> Result<(), PkiError> {
    let Val::Struct { fields, .. } = psd else {
        return Err(PkiError::decode("pkcs7: not a signed-data content info"));
    };
    let Some(Val::Struct {
        fields: signed_data,
        ..
    }) = fields.get_mut(1)
    else {
        // No SignedData: the zero ContentInfo has no content to detach, and
        // the (still zero) SignedData is left out of the encoding.
        return Ok(());
    };
    let Some(content_info) = signed_data.get_mut(schema::SIGNED_DATA_CONTENT_INFO) else {
        return Err(PkiError::decode("pkcs7: signed data without content info"));
    };
    let Val::Struct {
        raw: Some(raw),
        fields: ci_fields,
    } = content_info
    else {
        return Err(PkiError::decode("pkcs7: content info not parsed"));
    };
    content_bytes(raw).map_err(|e| PkiError::decode(format!("pkcs7: {e}")))?;
    let content_type = ci_fields.first().cloned().unwrap_or(Val::Zero);
    *content_info = Val::Struct {
        raw: None,
        fields: vec![content_type],
    };
    Ok(())
}

/// relic `ContentInfo.Bytes`: re-reads the content info with its value and
/// then the value's contents as one raw element; a syntax error on the way
/// means "no content", any other error is returned.
fn content_bytes(raw: &[u8]) -> Result<(), Asn1Error> {
    let reread = goasn1::unmarshal(raw, &schema::CONTENT_INFO_WITH_VALUE).and_then(|(ci, _)| {
        let Val::Struct { fields, .. } = &ci else {
            return Ok(());
        };
        match fields.get(1) {
            Some(Val::Raw(value)) => goasn1::unmarshal(value.bytes, &goasn1::Ty::Raw).map(drop),
            _ => Ok(()),
        }
    });
    match reread {
        Err(Asn1Error::Syntax(_)) | Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `der` has the structure of an RFC 3161 `TimeStampResp` as relic
/// decodes it with `asn1.Unmarshal` (bytes after it are ignored, as Go
/// does). Nothing is verified: not the status, not the content type, not
/// the signature.
pub fn check_timestamp_response(der: &[u8]) -> Result<(), PkiError> {
    goasn1::unmarshal(der, &schema::TIME_STAMP_RESP)
        .map(drop)
        .map_err(asn1_error)
}

fn asn1_error(e: Asn1Error) -> PkiError {
    PkiError::decode(e.to_string())
}
