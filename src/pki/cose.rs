//! COSE_Sign1 messages (RFC 9052) as go-cose v1.3.0 reads them, as far as
//! Rekor's COSE index keys need: the payload and a text content type in the
//! protected header.
//!
//! Rekor stores the message as the entry's attestation (the body keeps only
//! its hashes), and at upload it indexed the in-toto subjects of a payload
//! whose protected content type (label 3) is the in-toto media type. The
//! message must be tagged (`#6.18`), an array of four items, definite
//! lengths only, with no other tags in the outer structure, as go-cose
//! requires. Only messages the log accepted reach this reader (their hash
//! is checked against the stored envelope hash first), so it checks
//! well-formedness and does not re-validate header semantics.

use super::PkiError;

/// The parts of a decoded COSE_Sign1 message index keys use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sign1 {
    /// `None` for a detached (`nil`) payload.
    pub payload: Option<Vec<u8>>,
    /// The protected header's content type (label 3) when it is a text
    /// string.
    pub content_type: Option<String>,
}

/// CBOR nesting go-cose's decoder allows (fxamacker/cbor's default).
const MAX_DEPTH: usize = 32;
/// The COSE header label of the content type.
const LABEL_CONTENT_TYPE: u64 = 3;

/// Decodes a tagged COSE_Sign1 message.
pub fn parse_sign1(message: &[u8]) -> Result<Sign1, PkiError> {
    let Some(body) = message.strip_prefix(&[0xd2, 0x84]) else {
        return Err(PkiError::decode("cbor: invalid COSE_Sign1_Tagged object"));
    };
    let mut r = Reader { data: body, pos: 0 };
    let protected = r.byte_string()?;
    r.skip_item(0, false)?; // unprotected header map
    let payload = match r.peek()? {
        0xf6 => {
            r.pos += 1;
            None
        }
        _ => Some(r.byte_string()?.to_vec()),
    };
    r.byte_string()?; // signature
    if r.pos != r.data.len() {
        return Err(PkiError::decode("cbor: extraneous data after COSE_Sign1"));
    }
    Ok(Sign1 {
        payload,
        content_type: protected_content_type(protected)?,
    })
}

/// The content type in the protected header bytes (an empty byte string
/// means no header), if it is a text string.
fn protected_content_type(protected: &[u8]) -> Result<Option<String>, PkiError> {
    if protected.is_empty() {
        return Ok(None);
    }
    let mut r = Reader {
        data: protected,
        pos: 0,
    };
    let (major, count) = r.head()?;
    if major != 5 {
        return Err(PkiError::decode("cbor: protected header: require map type"));
    }
    let mut content_type = None;
    for _ in 0..count {
        let key = r.head_peek()?;
        let is_label = key == (0, LABEL_CONTENT_TYPE);
        r.skip_item(1, true)?;
        if is_label && r.peek()? >> 5 == 3 {
            let text = r.text_string()?;
            content_type = Some(text);
        } else {
            r.skip_item(1, true)?;
        }
    }
    if r.pos != r.data.len() {
        return Err(PkiError::decode(
            "cbor: extraneous data in protected header",
        ));
    }
    Ok(content_type)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn truncated() -> PkiError {
        PkiError::decode("cbor: unexpected end of data")
    }

    fn peek(&self) -> Result<u8, PkiError> {
        self.data.get(self.pos).copied().ok_or_else(Self::truncated)
    }

    /// A data item's major type and argument (definite lengths only).
    fn head(&mut self) -> Result<(u8, u64), PkiError> {
        let first = self.peek()?;
        self.pos += 1;
        let (major, info) = (first >> 5, first & 0x1f);
        let size = match info {
            0..=23 => return Ok((major, u64::from(info))),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Err(PkiError::decode("cbor: indefinite length not allowed")),
            _ => return Err(PkiError::decode("cbor: invalid additional information")),
        };
        let bytes = self
            .data
            .get(self.pos..self.pos + size)
            .ok_or_else(Self::truncated)?;
        self.pos += size;
        Ok((
            major,
            bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)),
        ))
    }

    fn head_peek(&mut self) -> Result<(u8, u64), PkiError> {
        let save = self.pos;
        let head = self.head();
        self.pos = save;
        head
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], PkiError> {
        let len = usize::try_from(len).map_err(|_| Self::truncated())?;
        let end = self.pos.checked_add(len).ok_or_else(Self::truncated)?;
        let bytes = self.data.get(self.pos..end).ok_or_else(Self::truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn byte_string(&mut self) -> Result<&'a [u8], PkiError> {
        match self.head()? {
            (2, len) => self.take(len),
            _ => Err(PkiError::decode("cbor: expected a byte string")),
        }
    }

    fn text_string(&mut self) -> Result<String, PkiError> {
        match self.head()? {
            (3, len) => {
                let bytes = self.take(len)?;
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| PkiError::decode("cbor: invalid UTF-8 string"))
            }
            _ => Err(PkiError::decode("cbor: expected a text string")),
        }
    }

    /// Skips one well-formed data item; tags only where `tags_allowed`.
    fn skip_item(&mut self, depth: usize, tags_allowed: bool) -> Result<(), PkiError> {
        if depth > MAX_DEPTH {
            return Err(PkiError::limit("cbor: exceeded max nested level"));
        }
        let (major, arg) = self.head()?;
        match major {
            0 | 1 => {}
            2 => {
                self.take(arg)?;
            }
            3 => {
                let bytes = self.take(arg)?;
                if std::str::from_utf8(bytes).is_err() {
                    return Err(PkiError::decode("cbor: invalid UTF-8 string"));
                }
            }
            4 | 5 => {
                let items = if major == 5 {
                    arg.saturating_mul(2)
                } else {
                    arg
                };
                for _ in 0..items {
                    self.skip_item(depth + 1, tags_allowed)?;
                }
            }
            6 if tags_allowed => self.skip_item(depth + 1, tags_allowed)?,
            6 => return Err(PkiError::decode("cbor: CBOR tag isn't allowed")),
            _ => {
                // Simple values and floats: the argument was the whole item,
                // except reserved simple values below 32 in two-byte form.
                if self.data[self.pos - 1] == 0xf8 && arg < 32 {
                    return Err(PkiError::decode("cbor: invalid simple value"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// D2 84 <protected> <unprotected> <payload> <signature>.
    fn message(protected: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut m = vec![0xd2, 0x84];
        m.push(0x40 | protected.len() as u8);
        m.extend_from_slice(protected);
        m.extend_from_slice(&[0xa1, 0x04, 0x42, 0x31, 0x31]); // {4: h'3131'}
        m.push(0x40 | payload.len() as u8);
        m.extend_from_slice(payload);
        m.extend_from_slice(&[0x42, 0x00, 0x01]);
        m
    }

    #[test]
    fn reads_payload_and_text_content_type() {
        // {1: -7, 3: "text/plain"}
        let mut protected = vec![0xa2, 0x01, 0x26, 0x03, 0x6a];
        protected.extend_from_slice(b"text/plain");
        let s = parse_sign1(&message(&protected, b"hello")).unwrap();
        assert_eq!(s.payload.as_deref(), Some(&b"hello"[..]));
        assert_eq!(s.content_type.as_deref(), Some("text/plain"));
        // An integer content type, or none at all.
        let s = parse_sign1(&message(&[0xa2, 0x01, 0x26, 0x03, 0x18, 0x32], b"")).unwrap();
        assert_eq!(s.content_type, None);
        let s = parse_sign1(&message(&[], b"x")).unwrap();
        assert_eq!(s.content_type, None);
    }

    #[test]
    fn rejects_what_go_cose_rejects() {
        let good = message(&[0xa1, 0x01, 0x26], b"p");
        assert!(parse_sign1(&good).is_ok());
        assert!(parse_sign1(&good[1..]).is_err()); // untagged
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(parse_sign1(&trailing).is_err());
        assert!(parse_sign1(&good[..good.len() - 1]).is_err());
        // Protected header that is not a map.
        assert!(parse_sign1(&message(&[0x80], b"p")).is_err());
        // Indefinite-length payload.
        let indefinite = [0xd2, 0x84, 0x40, 0xa0, 0x5f, 0x41, 0x70, 0xff, 0x40];
        assert!(parse_sign1(&indefinite).is_err());
        // A tag inside the message.
        let tagged = [0xd2, 0x84, 0x40, 0xa0, 0xc1, 0x40, 0x40];
        assert!(parse_sign1(&tagged).is_err());
        // Detached payload.
        let detached = [0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40];
        assert_eq!(parse_sign1(&detached).unwrap().payload, None);
    }
}
