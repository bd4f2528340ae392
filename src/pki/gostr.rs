//! Go string primitives whose exact behaviour leaks into index keys.
//!
//! Rekor is written in Go, and a few of Go's standard string functions differ
//! from their Rust namesakes in ways that change bytes: `strings.ToLower` uses
//! the Unicode *simple* case mapping without context (Rust's
//! `str::to_lowercase` applies full mappings and the final-sigma rule),
//! `bytes.TrimSpace` trims Unicode white space, and Go turns each invalid
//! UTF-8 byte into one U+FFFD where Rust's lossy conversion may merge several.
//! Each of them lives here once.

/// Go `strings.ToLower`: every character mapped on its own with the simple
/// lowercase mapping (`unicode.ToLower`). Input is already valid UTF-8.
pub fn to_lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars().map(simple_lower).collect()
}

/// Unicode simple lowercase mapping of one character. Rust only exposes the
/// full mapping; it differs from the simple one in exactly one place
/// (U+0130 → "i̇" instead of "i"), which Go maps to plain `i`.
fn simple_lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(single), None) => single,
        // U+0130 LATIN CAPITAL LETTER I WITH DOT ABOVE: simple mapping is 'i'.
        (Some(first), Some(_)) => first,
        (None, _) => c,
    }
}

/// Go `bytes.TrimSpace`: trims leading and trailing Unicode white space
/// (`unicode.IsSpace`, the same set as Rust's `char::is_whitespace`).
/// Invalid UTF-8 at either end stops the trimming, as in Go.
pub fn trim_space(b: &[u8]) -> &[u8] {
    let mut start = 0;
    while start < b.len() {
        match first_char(&b[start..]) {
            Some((c, n)) if c.is_whitespace() => start += n,
            _ => break,
        }
    }
    let mut end = b.len();
    while end > start {
        match last_char(&b[start..end]) {
            Some((c, n)) if c.is_whitespace() => end -= n,
            _ => break,
        }
    }
    &b[start..end]
}

/// Converts bytes to a string the way Go's `for range` / `encoding/json` see
/// them: each byte that does not start a valid UTF-8 sequence becomes one
/// U+FFFD and decoding resumes at the next byte.
pub fn lossy_utf8(mut b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    loop {
        match std::str::from_utf8(b) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(e) => {
                let (valid, rest) = b.split_at(e.valid_up_to());
                // `valid` is valid UTF-8 by construction of `valid_up_to`.
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                b = &rest[1..];
            }
        }
    }
}

/// The first character of `b` and its encoded length, if `b` starts with a
/// valid UTF-8 sequence.
fn first_char(b: &[u8]) -> Option<(char, usize)> {
    let max = b.len().min(4);
    (1..=max).find_map(|n| {
        std::str::from_utf8(&b[..n])
            .ok()
            .and_then(|s| s.chars().next().map(|c| (c, n)))
    })
}

/// The last character of `b` and its encoded length, if `b` ends with a valid
/// UTF-8 sequence.
fn last_char(b: &[u8]) -> Option<(char, usize)> {
    let max = b.len().min(4);
    (1..=max).find_map(|n| {
        std::str::from_utf8(&b[b.len() - n..])
            .ok()
            .and_then(|s| s.chars().next().map(|c| (c, n)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_lower_is_per_character_simple_mapping() {
        assert_eq!(to_lower("SHA256:ABCdef"), "sha256:abcdef");
        // Final sigma: Go keeps σ, Rust's str::to_lowercase would give ς.
        assert_eq!(to_lower("ΑΣ"), "ασ");
        assert_ne!("ΑΣ".to_lowercase(), to_lower("ΑΣ"));
        // U+0130 maps to plain 'i' in Go (simple mapping).
        assert_eq!(to_lower("\u{130}X"), "ix");
        assert_eq!(to_lower("Ä"), "ä");
    }

    #[test]
    fn trim_space_handles_unicode_spaces_and_stops_at_invalid_utf8() {
        assert_eq!(trim_space(b"  \t\nabc \r\n"), b"abc");
        assert_eq!(trim_space("\u{a0}x\u{2003}".as_bytes()), b"x");
        assert_eq!(trim_space(b"\xff x \xff"), b"\xff x \xff");
        assert_eq!(trim_space(b"   "), b"");
        assert_eq!(trim_space(b""), b"");
    }

    #[test]
    fn lossy_utf8_replaces_each_invalid_byte() {
        // Rust's from_utf8_lossy gives one U+FFFD for the truncated sequence
        // E2 82; Go gives one per byte.
        assert_eq!(lossy_utf8(b"a\xe2\x82b"), "a\u{fffd}\u{fffd}b");
        assert_eq!(String::from_utf8_lossy(b"a\xe2\x82b"), "a\u{fffd}b");
        assert_eq!(lossy_utf8(b"\xed\xa0\x80"), "\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(lossy_utf8("ok é".as_bytes()), "ok é");
    }
}
