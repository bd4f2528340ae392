//! Go `encoding/base64.StdEncoding`, byte for byte.
//!
//! Every base64 field Rekor stores is decoded with Go's standard decoder,
//! which differs from a strict RFC 4648 decoder in two ways that matter here:
//! `\r` and `\n` anywhere in the input are skipped, and non-zero unused bits
//! in the last symbol are accepted. Padding stays mandatory. The `base64`
//! crate does the decoding once CR/LF are removed and it is told to allow
//! trailing bits.

use base64::alphabet;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;

use super::PkiError;

const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

const GO_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Go `base64.StdEncoding.DecodeString`.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, PkiError> {
    decode_with(&GO_STD, input)
}

/// Go `base64.URLEncoding.DecodeString` (URL alphabet, padding required),
/// the fallback of the DSSE library's decoder.
pub fn decode_url(input: &[u8]) -> Result<Vec<u8>, PkiError> {
    decode_with(&GO_URL, input)
}

fn decode_with(engine: &GeneralPurpose, input: &[u8]) -> Result<Vec<u8>, PkiError> {
    let stripped: Vec<u8>;
    let data = if memchr::memchr2(b'\r', b'\n', input).is_some() {
        stripped = input
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect();
        &stripped[..]
    } else {
        input
    };
    // Go reports a length that is not a multiple of 4 as a corrupt input at
    // the end; the crate would call it invalid padding. Same outcome.
    engine
        .decode(data)
        .map_err(|e| PkiError::decode(format!("illegal base64 data: {e}")))
}

/// Go `base64.StdEncoding.EncodeToString`: padded, no line breaks.
pub fn encode(data: &[u8]) -> String {
    GO_STD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_standard_padded_input() {
        assert_eq!(decode(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode(b"aGVsbG8h").unwrap(), b"hello!");
        assert_eq!(decode(b"").unwrap(), b"");
        assert_eq!(decode(b"\r\n").unwrap(), b"");
    }

    #[test]
    fn skips_cr_and_lf_anywhere() {
        assert_eq!(decode(b"aGVs\r\nbG8=\n").unwrap(), b"hello");
        assert_eq!(decode(b"a\nG\rV\ns\nbG8=").unwrap(), b"hello");
    }

    #[test]
    fn accepts_non_zero_trailing_bits() {
        // "QQ==" is canonical for "A"; "QR==" has non-zero unused bits.
        assert_eq!(decode(b"QR==").unwrap(), b"A");
        assert_eq!(decode(b"QUJ=").unwrap(), b"AB");
    }

    #[test]
    fn rejects_missing_padding_spaces_and_url_safe_alphabet() {
        assert!(decode(b"QQ").is_err());
        assert!(decode(b"QQ=").is_err());
        assert!(decode(b"aGVs bG8=").is_err());
        assert!(decode(b"a-_b").is_err());
        assert!(decode(b"QQ==QQ==").is_err());
        assert!(decode(b"=QQ=").is_err());
    }

    #[test]
    fn url_alphabet_variant() {
        assert_eq!(decode_url(b"-_8=").unwrap(), [0xfb, 0xff]);
        assert!(decode(b"-_8=").is_err());
        assert!(decode_url(b"+/8=").is_err());
        assert!(decode_url(b"-_8").is_err());
    }

    #[test]
    fn encode_round_trips() {
        assert_eq!(encode(b"hello"), "aGVsbG8=");
        assert_eq!(
            decode(encode(&[0xff, 0, 1, 2]).as_bytes()).unwrap(),
            [0xff, 0, 1, 2]
        );
    }
}
