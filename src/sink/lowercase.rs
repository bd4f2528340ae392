//! Go's `strings.ToLower`, because Rekor's Redis index stores and looks up
//! keys lowercased with it (docs/INDEX_KEYS.md §2.3, §6), and Rust's
//! `str::to_lowercase` differs: it applies full case mappings (`İ` becomes
//! `i` + combining dot) and the final-sigma rule (`Σ` at a word end becomes
//! `ς`). Go maps each character on its own with the Unicode *simple*
//! lowercase mapping.

/// Uppercase letters that gained a lowercase mapping after Unicode 15.0,
/// the version of Go 1.25 and 1.26 (`unicode.Version`); Go leaves them as
/// they are. Found by comparing this function with Go's `strings.ToLower`
/// over every Unicode scalar value (Rust 1.95); the only other difference
/// was U+0130, handled below.
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

/// Lowercases like Go's `strings.ToLower`.
///
/// `char::to_lowercase` is the simple mapping for every character except
/// U+0130 `İ`, the only character whose unconditional full lowercase mapping
/// has two characters; Go maps it to a plain `i`.
pub fn go_to_lower(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::go_to_lower;

    #[test]
    fn ascii() {
        assert_eq!(go_to_lower("SHA256:ABCdef0123"), "sha256:abcdef0123");
        assert_eq!(go_to_lower(""), "");
    }

    #[test]
    fn simple_mapping_not_full() {
        // Go: unicode.ToLower('İ') == 'i'; Rust's full mapping adds U+0307.
        assert_eq!(go_to_lower("İSTANBUL"), "istanbul");
        assert_eq!("İ".to_lowercase(), "i\u{307}");
    }

    #[test]
    fn no_final_sigma_rule() {
        assert_eq!(go_to_lower("ΟΔΟΣ"), "οδοσ");
        assert_eq!("ΟΔΟΣ".to_lowercase(), "οδος");
    }

    #[test]
    fn other_scripts_and_non_letters() {
        // U+1E9E capital sharp s, U+01C4 DŽ, U+2126 Ohm sign, U+212A Kelvin sign
        assert_eq!(
            go_to_lower("ÄÖÜ-\u{1E9E}-\u{1C4}-\u{2126}-\u{212A}"),
            "äöü-ß-\u{1C6}-\u{3C9}-k"
        );
        assert_eq!(
            go_to_lower("mailto:Ünïcödé@EXAMPLE.com"),
            "mailto:ünïcödé@example.com"
        );
        assert_eq!(go_to_lower("日本語 ✓ 🎉"), "日本語 ✓ 🎉");
        assert_eq!(go_to_lower("ﬃ"), "ﬃ"); // no lowercase; uppercase would expand
    }

    #[test]
    fn letters_newer_than_gos_unicode_stay() {
        // U+A7CB (Unicode 16) has a lowercase in Rust's tables, not in Go 1.25's.
        assert_eq!(go_to_lower("\u{A7CB}\u{16EA0}A"), "\u{A7CB}\u{16EA0}a");
        assert_ne!("\u{A7CB}".to_lowercase(), "\u{A7CB}");
    }
}
