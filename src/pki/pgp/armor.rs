//! OpenPGP ASCII armor as go-crypto's `armor` package reads and writes it.
//!
//! Reading follows `armor.Decode` over a `bufio.Reader` of 100 bytes: lines
//! of 100 bytes or more arrive in pieces (skipped while looking for the
//! BEGIN line, fatal inside the body), header lines need a colon (a line
//! without one restarts the search for a BEGIN line), and the body ends at
//! an `-----END ` line or a 5-character `=` checksum line, whose value is
//! never checked. Writing follows `armor.Encode` with no headers: 64-column
//! base64, `=` and the CRC-24, and no newline after the END line.

use crate::pki::gobase64;
use crate::pki::gostr::trim_space;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";
/// `bufio.NewReaderSize(in, 100)`.
const BUFFER: usize = 100;

/// One decoded armor block.
pub struct Block {
    /// The type from the BEGIN line, e.g. `PGP PUBLIC KEY BLOCK`.
    pub kind: Vec<u8>,
    /// The decoded body, or `None` when reading it fails (corrupt line,
    /// bad base64): go-crypto then fails on its first read past the
    /// good part, and every caller here reads to the end.
    pub body: Option<Vec<u8>>,
}

/// `bufio.Reader.ReadLine` with a 100-byte buffer over an in-memory text.
struct Lines<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    /// A line (or a piece of a long one) and whether more of it follows;
    /// `None` at the end of the text.
    fn read_line(&mut self) -> Option<(&'a [u8], bool)> {
        let rest = &self.text[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let window = &rest[..rest.len().min(BUFFER)];
        match window.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                let line = &rest[..i];
                Some((line.strip_suffix(b"\r").unwrap_or(line), false))
            }
            None if window.len() == BUFFER => {
                // A full buffer without a newline; a trailing '\r' is put
                // back so that a straddling "\r\n" is still seen.
                let piece = window.strip_suffix(b"\r").unwrap_or(window);
                self.pos += piece.len();
                Some((piece, true))
            }
            None => {
                self.pos = self.text.len();
                Some((rest, false))
            }
        }
    }
}

/// go-crypto `armor.Decode` on `text`; `None` when no block is found
/// (Go's `io.EOF`).
pub fn decode(text: &[u8]) -> Option<Block> {
    let mut lines = Lines { text, pos: 0 };
    let mut ignore_next = false;
    'try_next_block: loop {
        // Skip leading garbage.
        let kind = loop {
            let ignore_this = ignore_next;
            let (line, is_prefix) = lines.read_line()?;
            ignore_next = is_prefix;
            if ignore_next || ignore_this {
                continue;
            }
            let line = trim_space(line);
            if line.len() > BEGIN.len() + DASHES.len() && line.starts_with(BEGIN) {
                break line[BEGIN.len()..line.len() - DASHES.len()].to_vec();
            }
        };
        // Headers, up to an empty line.
        let mut next_is_continuation = false;
        loop {
            let is_continuation = next_is_continuation;
            let (line, is_prefix) = lines.read_line()?;
            next_is_continuation = is_prefix;
            if is_continuation {
                continue;
            }
            let line = trim_space(line);
            if line.is_empty() {
                break;
            }
            if !line.contains(&b':') {
                continue 'try_next_block;
            }
        }
        return Some(Block {
            kind,
            body: read_body(&mut lines),
        });
    }
}

/// go-crypto's `lineReader` feeding a base64 decoder.
fn read_body(lines: &mut Lines<'_>) -> Option<Vec<u8>> {
    let mut b64 = Vec::new();
    while let Some((line, is_prefix)) = lines.read_line() {
        if is_prefix {
            return None;
        }
        let line = trim_space(line);
        if line.starts_with(END) || (line.len() == 5 && line[0] == b'=') {
            break;
        }
        if line.len() > 96 {
            return None;
        }
        b64.extend_from_slice(line);
    }
    gobase64::decode(&b64).ok()
}

/// RFC 4880 CRC-24 (go-crypto `crc24`).
pub fn crc24(data: &[u8]) -> u32 {
    // Table-driven (the `crc` crate): the bitwise loop was most of the cost
    // of re-armoring a key for its canonical value.
    static CRC24: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_24_OPENPGP);
    CRC24.checksum(data)
}

/// go-crypto `armor.Encode` with no headers, then `Close`.
pub fn encode(kind: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 4 / 3 + 128);
    out.extend_from_slice(BEGIN);
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"-----\n\n");
    let body = gobase64::encode(data);
    for (i, line) in body.as_bytes().chunks(64).enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(line);
    }
    let crc = crc24(data).to_be_bytes();
    out.extend_from_slice(b"\n=");
    out.extend_from_slice(gobase64::encode(&crc[1..]).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(END);
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(DASHES);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc24_of_known_inputs() {
        assert_eq!(crc24(b""), 0xb704ce);
        // RFC 4880 §6.1 reference implementation, computed over "123456789".
        assert_eq!(crc24(b"123456789"), 0x21cf02);
    }

    #[test]
    fn encode_layout_matches_go() {
        let data: Vec<u8> = (0u8..=99).collect();
        let out = String::from_utf8(encode("PGP PUBLIC KEY BLOCK", &data)).unwrap();
        let lines: Vec<&str> = out.split('\n').collect();
        assert_eq!(lines[0], "-----BEGIN PGP PUBLIC KEY BLOCK-----");
        assert_eq!(lines[1], "");
        // 100 bytes are 136 base64 characters: 64 + 64 + 8.
        assert_eq!(lines[2].len(), 64);
        assert_eq!(lines[3].len(), 64);
        assert_eq!(lines[4].len(), 8);
        assert!(lines[5].starts_with('=') && lines[5].len() == 5);
        assert_eq!(lines[6], "-----END PGP PUBLIC KEY BLOCK-----");
        assert_eq!(lines.len(), 7);
        assert!(!out.ends_with('\n'));
        // Exactly 64 columns: no empty line before the checksum.
        let out = String::from_utf8(encode("X", &[0u8; 48])).unwrap();
        assert_eq!(out.split('\n').nth(3).unwrap().len(), 5);
    }

    #[test]
    fn decode_round_trips_and_ignores_the_checksum() {
        let data = b"hello armor".to_vec();
        let armored = encode("PGP PUBLIC KEY BLOCK", &data);
        let block = decode(&armored).unwrap();
        assert_eq!(block.kind, b"PGP PUBLIC KEY BLOCK");
        assert_eq!(block.body.unwrap(), data);
        let text = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nVersion: x\n\naGk=\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n";
        assert_eq!(decode(text.as_bytes()).unwrap().body.unwrap(), b"hi");
    }

    #[test]
    fn decode_headers_and_garbage() {
        // Garbage before the block, CRLF line ends, whitespace around lines.
        let text = "junk\r\n  -----BEGIN PGP PUBLIC KEY BLOCK-----  \r\nComment: c\r\n \r\n aGk= \r\n-----END PGP PUBLIC KEY BLOCK-----\r\n";
        assert_eq!(decode(text.as_bytes()).unwrap().body.unwrap(), b"hi");
        // No blank line: the base64 line has no colon, so the search for a
        // BEGIN line restarts and finds none.
        let text =
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\naGk=\n-----END PGP PUBLIC KEY BLOCK-----\n";
        assert!(decode(text.as_bytes()).is_none());
        // ... but a second block later is found.
        let text = format!("{text}-----BEGIN B-----\n\naGk=\n-----END B-----\n");
        let block = decode(text.as_bytes()).unwrap();
        assert_eq!(block.kind, b"B");
        assert!(decode(b"nothing here\n").is_none());
    }

    #[test]
    fn decode_long_lines() {
        let long = "A".repeat(97);
        let text = format!("-----BEGIN X-----\n\n{long}\n-----END X-----\n");
        assert!(decode(text.as_bytes()).unwrap().body.is_none());
        let long = "A".repeat(100);
        let text = format!("-----BEGIN X-----\n\n{long}\n-----END X-----\n");
        assert!(decode(text.as_bytes()).unwrap().body.is_none());
        // A BEGIN line of 100 bytes or more is skipped as garbage.
        let kind = "K".repeat(90);
        let text = format!("-----BEGIN {kind}-----\n\naGk=\n");
        assert!(decode(text.as_bytes()).is_none());
        // Bad base64 is a body error.
        let text = "-----BEGIN X-----\n\naGk\n-----END X-----\n";
        assert!(decode(text.as_bytes()).unwrap().body.is_none());
    }

    #[test]
    fn read_line_splits_like_bufio() {
        let line = "B".repeat(99);
        let text = format!("{line}\n{}\r\n", "C".repeat(150));
        let mut lines = Lines {
            text: text.as_bytes(),
            pos: 0,
        };
        assert_eq!(lines.read_line(), Some((line.as_bytes(), false)));
        let (piece, more) = lines.read_line().unwrap();
        assert_eq!((piece.len(), more), (100, true));
        let (piece, more) = lines.read_line().unwrap();
        assert_eq!((piece.len(), more), (50, false));
        assert_eq!(lines.read_line(), None);
    }
}
