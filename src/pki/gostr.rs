//! Go string primitives whose exact behaviour leaks into index keys.
//!
//! Rekor is written in Go, and a few of Go's standard string functions differ
//! from their Rust namesakes in ways that change bytes: `strings.ToLower` uses
//! the Unicode *simple* case mapping without context, from Go's (older)
//! Unicode tables (Rust's `str::to_lowercase` applies full mappings, the
//! final-sigma rule and a newer Unicode version),
//! `bytes.TrimSpace` trims Unicode white space, and Go turns each invalid
//! UTF-8 byte into one U+FFFD where Rust's lossy conversion may merge several.
//! Each of them lives here once.

/// Uppercase letters that gained a lowercase mapping after Unicode 15.0,
/// the version of Go 1.25 and 1.26 (`unicode.Version`); Go leaves them as
/// they are. Found by comparing [`to_lower`] with Go's `strings.ToLower`
/// over every Unicode scalar value (`lowercase_matches_go` in the
/// integration tests runs that comparison against the Go toolchain); the
/// only other difference is U+0130, handled in [`to_lower`].
const NEWER_THAN_GO: &[(char, char)] = &[
    ('\u{1C89}', '\u{1C89}'),
    ('\u{A7CB}', '\u{A7CC}'),
    ('\u{A7CE}', '\u{A7CE}'),
    ('\u{A7D2}', '\u{A7D2}'),
    ('\u{A7D4}', '\u{A7D4}'),
    ('\u{A7DA}', '\u{A7DA}'),
    ('\u{A7DC}', '\u{A7DC}'),
    ('\u{10D50}', '\u{10D65}'),
    ('\u{16EA0}', '\u{16EB8}'),
];

/// Go `strings.ToLower`: every character mapped on its own with the simple
/// lowercase mapping (`unicode.ToLower`) of Go's Unicode version. Used for
/// the hash keys (`HK`) and, once, by the Redis sink, which stores keys the
/// way Rekor's Redis index does (INDEX_KEYS.md §2.3, §6).
///
/// `char::to_lowercase` is the simple mapping for every character except
/// U+0130 `İ`, the only character whose unconditional full lowercase
/// mapping has two characters; Go maps it to a plain `i`. Letters newer
/// than Go's tables ([`NEWER_THAN_GO`]) stay as they are.
pub fn to_lower(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut lower = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{130}' => lower.push('i'),
            _ if NEWER_THAN_GO.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)) => lower.push(c),
            _ => lower.extend(c.to_lowercase()),
        }
    }
    lower
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
        assert_eq!(to_lower("SHA256:ABCdef0123"), "sha256:abcdef0123");
        assert_eq!(to_lower(""), "");
        // Final sigma: Go keeps σ, Rust's str::to_lowercase would give ς.
        assert_eq!(to_lower("ΟΔΟΣ"), "οδοσ");
        assert_eq!("ΟΔΟΣ".to_lowercase(), "οδος");
        // U+0130 maps to plain 'i' in Go (simple mapping); Rust's full
        // mapping adds U+0307.
        assert_eq!(to_lower("İSTANBUL"), "istanbul");
        assert_eq!("İ".to_lowercase(), "i\u{307}");
    }

    #[test]
    fn to_lower_other_scripts_and_non_letters() {
        // U+1E9E capital sharp s, U+01C4 DŽ, U+2126 Ohm sign, U+212A Kelvin sign
        assert_eq!(
            to_lower("ÄÖÜ-\u{1E9E}-\u{1C4}-\u{2126}-\u{212A}"),
            "äöü-ß-\u{1C6}-\u{3C9}-k"
        );
        assert_eq!(
            to_lower("mailto:Ünïcödé@EXAMPLE.com"),
            "mailto:ünïcödé@example.com"
        );
        assert_eq!(to_lower("日本語 ✓ 🎉"), "日本語 ✓ 🎉");
        assert_eq!(to_lower("ﬃ"), "ﬃ"); // no lowercase; uppercase would expand
    }

    #[test]
    fn to_lower_leaves_letters_newer_than_gos_unicode() {
        // U+A7CB (Unicode 16) has a lowercase in Rust's tables, not in Go 1.25's.
        assert_eq!(to_lower("\u{A7CB}\u{16EA0}A"), "\u{A7CB}\u{16EA0}a");
        assert_ne!("\u{A7CB}".to_lowercase(), "\u{A7CB}");
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
