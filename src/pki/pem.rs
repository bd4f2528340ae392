//! Go `encoding/pem` (Go 1.26), decode and encode.
//!
//! Rekor hashes the PEM text it re-encodes, so the encoder must produce Go's
//! exact layout (64-character lines, every line newline-terminated). The
//! decoder decides which inputs are keys at all, so it follows Go's search
//! rules: the first `-----END ` line, the last `-----BEGIN ` line before it,
//! optional `Key: value` headers, spaces and tabs removed from the body, and
//! the rest of the input after the END line returned for chain parsing.
//! The `pem` crate is stricter and would turn Go-accepted keys into errors.

use super::gobase64;

const PEM_START: &[u8] = b"\n-----BEGIN ";
const PEM_END: &[u8] = b"\n-----END ";
const PEM_END_OF_LINE: &[u8] = b"-----";

/// One decoded PEM block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The text between `-----BEGIN ` and `-----` (raw bytes, as Go keeps it).
    pub kind: Vec<u8>,
    pub bytes: Vec<u8>,
}

/// Go `pem.Decode`: the first block found and the input after it. `None`
/// when no well-formed block exists (Go returns the whole input as rest).
pub fn decode(data: &[u8]) -> Option<(Block, &[u8])> {
    let mut rest = data;
    let mut end_trailer_index: isize = 0;
    loop {
        // Skip past the END marker already examined (Go guards this too).
        if end_trailer_index < 0 || end_trailer_index as usize > rest.len() {
            return None;
        }
        rest = &rest[end_trailer_index as usize..];

        let mut end_index = find(rest, PEM_END)? as isize;
        end_trailer_index = end_index + PEM_END.len() as isize;
        let begin_index = match rfind(&rest[..end_index as usize], &PEM_START[1..]) {
            Some(i) if i == 0 || rest[i - 1] == b'\n' => i,
            _ => continue,
        };
        let skip = (begin_index + PEM_START.len() - 1) as isize;
        rest = &rest[skip as usize..];
        end_index -= skip;
        end_trailer_index -= skip;

        let (type_line, after_type, consumed) = get_line(rest);
        rest = after_type;
        end_index -= consumed as isize;
        end_trailer_index -= consumed as isize;
        let Some(kind) = type_line.strip_suffix(PEM_END_OF_LINE) else {
            continue;
        };

        let mut has_headers = false;
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, next, consumed) = get_line(rest);
            if memchr::memchr(b':', line).is_none() {
                break;
            }
            has_headers = true;
            rest = next;
            end_index -= consumed as isize;
            end_trailer_index -= consumed as isize;
        }
        if has_headers && end_index < 0 {
            continue;
        }

        let end_trailer = usize::try_from(end_trailer_index)
            .ok()
            .and_then(|i| rest.get(i..))?;
        let trailer_len = kind.len() + PEM_END_OF_LINE.len();
        if end_trailer.len() < trailer_len {
            continue;
        }
        let (trailer, rest_of_end_line) = end_trailer.split_at(trailer_len);
        if !trailer.starts_with(kind) || !trailer.ends_with(PEM_END_OF_LINE) {
            continue;
        }
        if !get_line(rest_of_end_line).0.is_empty() {
            continue;
        }

        let mut bytes = Vec::new();
        if end_index > 0 {
            let body: Vec<u8> = rest[..end_index as usize]
                .iter()
                .copied()
                .filter(|&b| b != b' ' && b != b'\t')
                .collect();
            match gobase64::decode(&body) {
                Ok(decoded) => bytes = decoded,
                Err(_) => continue,
            }
        }

        // The END marker may have matched without its leading newline when
        // the block was empty, hence the -1.
        let after_end = usize::try_from(end_index + PEM_END.len() as isize - 1)
            .ok()
            .and_then(|i| rest.get(i..))?;
        let (_, after, _) = get_line(after_end);
        return Some((
            Block {
                kind: kind.to_vec(),
                bytes,
            },
            after,
        ));
    }
}

/// Go `pem.EncodeToMemory` for a block without headers.
pub fn encode(kind: &str, bytes: &[u8]) -> Vec<u8> {
    let b64 = gobase64::encode(bytes);
    let mut out = Vec::with_capacity(b64.len() + b64.len() / 64 + 2 * kind.len() + 32);
    out.extend_from_slice(b"-----BEGIN ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"-----\n");
    out
}

/// Go's `getLine`: the first `\n`- or `\r\n`-terminated line without
/// trailing spaces/tabs, the input after the newline, and how many bytes
/// that skipped.
fn get_line(data: &[u8]) -> (&[u8], &[u8], usize) {
    let (mut i, j) = match memchr::memchr(b'\n', data) {
        Some(i) => (i, i + 1),
        None => (data.len(), data.len()),
    };
    if j > i && i > 0 && data[i - 1] == b'\r' {
        i -= 1;
    }
    let mut line = &data[..i];
    while let [head @ .., b' ' | b'\t'] = line {
        line = head;
    }
    (line, &data[j..], j)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kind: &str, body: &str) -> String {
        format!("-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n")
    }

    #[test]
    fn decodes_simple_block_and_returns_rest() {
        let text = format!("{}tail", block("PUBLIC KEY", "aGVsbG8="));
        let (b, rest) = decode(text.as_bytes()).unwrap();
        assert_eq!(b.kind, b"PUBLIC KEY");
        assert_eq!(b.bytes, b"hello");
        assert_eq!(rest, b"tail");
    }

    #[test]
    fn skips_leading_junk_headers_spaces_and_crlf() {
        let text = "junk\r\n-----BEGIN X-----\r\nProc-Type: 4\r\n\r\naGVs bG8=\t\r\n-----END X-----  \r\nnext";
        let (b, rest) = decode(text.as_bytes()).unwrap();
        assert_eq!(b.kind, b"X");
        assert_eq!(b.bytes, b"hello");
        assert_eq!(rest, b"next");
    }

    #[test]
    fn rejects_mismatched_end_type_and_bad_base64() {
        assert!(decode(b"-----BEGIN A-----\naGVsbG8=\n-----END B-----\n").is_none());
        assert!(decode(b"-----BEGIN A-----\naGVsbG8\n-----END A-----\n").is_none());
        assert!(decode(b"-----BEGIN A-----\naGVsbG8=\n-----END A----- x\n").is_none());
        assert!(decode(b"no pem here").is_none());
    }

    #[test]
    fn uses_last_begin_before_first_end() {
        let text = "-----BEGIN A-----\n-----BEGIN B-----\naGVsbG8=\n-----END B-----\n";
        let (b, _) = decode(text.as_bytes()).unwrap();
        assert_eq!(b.kind, b"B");
    }

    #[test]
    fn empty_block_and_header_colon_in_type_do_not_panic() {
        let (b, rest) = decode(b"-----BEGIN A-----\n-----END A-----\nx").unwrap();
        assert!(b.bytes.is_empty());
        assert_eq!(rest, b"x");
        // The END line contains a colon and is consumed as a header: Go
        // gives up on this block instead of panicking.
        assert!(decode(b"-----BEGIN A:B-----\n-----END A:B-----\nfoo").is_none());
    }

    #[test]
    fn encode_wraps_at_64_and_ends_with_newline() {
        let data: Vec<u8> = (0u8..100).collect();
        let text = String::from_utf8(encode("CERTIFICATE", &data)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        // 100 bytes → 136 base64 characters → 64 + 64 + 8.
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2].len(), 64);
        assert_eq!(lines[3].len(), 8);
        assert_eq!(lines[4], "-----END CERTIFICATE-----");
        assert!(text.ends_with("-----\n"));
        let (b, rest) = decode(text.as_bytes()).unwrap();
        assert_eq!(b.bytes, data);
        assert!(rest.is_empty());
        assert_eq!(
            encode("X", b""),
            b"-----BEGIN X-----\n-----END X-----\n".to_vec()
        );
    }
}
