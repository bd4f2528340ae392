//! govalidator `IsEmail` (asaskevich/govalidator a9d515a09cc2), which decides
//! whether an SSH key comment or a PGP user-ID e-mail becomes a subject.
//!
//! The RE2 pattern is used as is, except that Go's ASCII-only `\d` is
//! written `[0-9]` (Rust's `\d` would match any Unicode digit).

use std::sync::LazyLock;

use regex::Regex;

/// govalidator's `Email` pattern (`patterns.go`), `\d` → `[0-9]`.
const EMAIL_PATTERN: &str = r#"^(((([a-zA-Z]|[0-9]|[!#\$%&'\*\+\-\/=\?\^_`{\|}~]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])+(\.([a-zA-Z]|[0-9]|[!#\$%&'\*\+\-\/=\?\^_`{\|}~]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])+)*)|((\x22)((((\x20|\x09)*(\x0d\x0a))?(\x20|\x09)+)?(([\x01-\x08\x0b\x0c\x0e-\x1f\x7f]|\x21|[\x23-\x5b]|[\x5d-\x7e]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])|(\([\x01-\x09\x0b\x0c\x0d-\x7f]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}]))))*(((\x20|\x09)*(\x0d\x0a))?(\x20|\x09)+)?(\x22)))@((([a-zA-Z]|[0-9]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])|(([a-zA-Z]|[0-9]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])([a-zA-Z]|[0-9]|-|\.|_|~|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])*([a-zA-Z]|[0-9]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])))\.)+(([a-zA-Z]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])|(([a-zA-Z]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])([a-zA-Z]|[0-9]|-|_|~|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])*([a-zA-Z]|[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}])))\.?$"#;

static EMAIL: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(EMAIL_PATTERN).ok());

/// govalidator `IsEmail`.
pub fn is_email(s: &str) -> bool {
    EMAIL.as_ref().is_some_and(|re| re.is_match(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values checked against Go's `regexp` with govalidator's
    /// pattern (Go 1.26).
    #[test]
    fn pattern_compiles_and_matches_like_govalidator() {
        assert!(EMAIL.is_some());
        let cases = [
            ("test@rekor.dev", true),
            ("Foo.Bar+baz@Example.COM", true),
            ("\"quoted name\"@example.com", false),
            ("\"q\"@example.com", true),
            ("user@example.com.", true),
            ("ünïcode@exämple.org", true),
            ("test@rekor", false),
            ("user@example.c0m", true),
            ("user@-example.com", false),
            ("\u{0663}@example.com", true),
            ("a@b@c.com", false),
            ("user @example.com", false),
            ("", false),
        ];
        for (s, want) in cases {
            assert_eq!(is_email(s), want, "{s:?}");
        }
    }
}
