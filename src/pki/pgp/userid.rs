//! The e-mail part of a user ID, as go-crypto's `parseUserId` finds it in
//! `Name (Comment) <Email>`.
//!
//! Go walks the string rune by rune, but every delimiter is ASCII and no
//! byte of a multi-byte (or invalid) sequence is ASCII, so walking bytes
//! gives the same offsets. The ID may hold any bytes; an e-mail that is not
//! valid UTF-8 can never pass govalidator's `IsEmail` (Go sees U+FFFD, which
//! the pattern does not allow), so it is dropped here.

use crate::pki::email::is_email;
use crate::pki::gostr::trim_space;

/// go-crypto `parseUserId`: the trimmed e-mail part, or the trimmed name
/// when there is no `<…>` part and the name contains `@`.
pub fn email_part(id: &[u8]) -> &[u8] {
    let (mut n, mut e) = ((0, 0), (0, 0));
    let mut state = 0;
    for (offset, &b) in id.iter().enumerate() {
        if state == 0 {
            n.0 = offset;
            state = 1;
        }
        match state {
            1 if b == b'(' => {
                state = 2;
                n.1 = offset;
            }
            1 if b == b'<' => {
                state = 5;
                n.1 = offset;
            }
            2 => state = if b == b')' { 4 } else { 3 },
            3 if b == b')' => state = 4,
            4 if b == b'<' => state = 5,
            5 => {
                e.0 = offset;
                state = if b == b'>' { 7 } else { 6 };
                if state == 7 {
                    e.1 = offset;
                }
            }
            6 if b == b'>' => {
                state = 7;
                e.1 = offset;
            }
            _ => {}
        }
    }
    match state {
        1 => n.1 = id.len(),
        6 => e.1 = id.len(),
        _ => {}
    }
    let email = trim_space(&id[e.0..e.1]);
    let name = trim_space(&id[n.0..n.1]);
    if email.is_empty() && name.contains(&b'@') {
        name
    } else {
        email
    }
}

/// The subject Rekor takes from a user ID: its e-mail part if that is a
/// govalidator e-mail, verbatim (not lowercased).
pub fn subject(id: &[u8]) -> Option<String> {
    let email = std::str::from_utf8(email_part(id)).ok()?;
    is_email(email).then(|| email.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(id: &str) -> &str {
        std::str::from_utf8(email_part(id.as_bytes())).unwrap()
    }

    /// Cases from go-crypto's `userid_test.go` plus the fallbacks.
    #[test]
    fn parses_like_go() {
        assert_eq!(
            email("Full Name (Comment) <email@example.com>"),
            "email@example.com"
        );
        assert_eq!(email("Rekor Test <test@rekor.dev>"), "test@rekor.dev");
        assert_eq!(email(" Name < spaced@example.com > "), "spaced@example.com");
        assert_eq!(email("<email@example.com>"), "email@example.com");
        assert_eq!(email("Name (Comment)"), "");
        assert_eq!(email("bare@example.com"), "bare@example.com");
        assert_eq!(email(" bare@example.com (comment)"), "bare@example.com");
        assert_eq!(
            email("Name <unterminated@example.com"),
            "unterminated@example.com"
        );
        assert_eq!(email("Name <>"), "");
        assert_eq!(email("Name <"), "");
        assert_eq!(
            email("Name (a <b@c.d>) <real@example.com>"),
            "real@example.com"
        );
        assert_eq!(email("Name (unclosed <x@y.z>"), "");
        assert_eq!(email("(only comment) x@y.z"), "");
        assert_eq!(email(""), "");
        assert_eq!(email("N <a@b.c> <d@e.f>"), "a@b.c");
    }

    #[test]
    fn subject_filters_with_is_email_and_keeps_case() {
        assert_eq!(
            subject(b"Mixed <Mixed.Case@Example.COM>").as_deref(),
            Some("Mixed.Case@Example.COM")
        );
        assert_eq!(subject(b"No Mail (comment)"), None);
        assert_eq!(subject(b"Local <root@localhost>"), None);
        assert_eq!(subject(b"Bad <a\xffb@example.com>"), None);
        assert_eq!(
            subject("Ünï <ünï@exämple.org>".as_bytes()).as_deref(),
            Some("ünï@exämple.org")
        );
    }
}
