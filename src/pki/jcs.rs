//! RFC 8785 JSON canonicalization as cyberphone's Go `jsoncanonicalizer`
//! (the version Rekor v1.5.4 pins) implements it, byte for byte.
//!
//! TUF index keys are SHA-256 hashes of this output, so its quirks matter
//! more than the RFC: object members are sorted by the UTF-16 code units
//! of their names and a repeated name is an error; numbers go through
//! `float64` and come out in ECMAScript form; strings are decoded and
//! re-emitted with only `"`, `\`, `\b \f \n \r \t` and other control
//! characters escaped — but bytes inside strings are copied as they are,
//! so invalid UTF-8 survives; `\u` escapes of a surrogate must come in
//! pairs (an invalid pair becomes U+FFFD); outside strings only ASCII is
//! allowed. Crates such as `serde_json_canonicalizer` go through
//! `serde_json` values and differ on repeated names, invalid UTF-8 and
//! lone surrogates, hence this port. Its input is always JSON that Go's
//! `json.Marshal` wrote.

use super::gostr::lossy_utf8;
use super::PkiError;

/// Deepest nesting accepted. Go's canonicalizer has no limit (goroutine
/// stacks grow); a recursive port on a fixed thread stack needs one. TUF
/// metadata nests a handful of levels.
pub const MAX_NESTING: usize = 500;

/// `jsoncanonicalizer.Transform`.
pub fn transform(json: &[u8]) -> Result<Vec<u8>, PkiError> {
    let mut p = Parser {
        data: json,
        index: 0,
        depth: 0,
    };
    let out = if p.peek_non_ws()? == b'[' {
        p.scan()?;
        p.nested(Parser::array)?
    } else {
        p.scan_for(b'{')?;
        p.nested(Parser::object)?
    };
    if p.data[p.index..].iter().any(|&c| !is_ws(c)) {
        return Err(error("Improperly terminated JSON object"));
    }
    Ok(out)
}

fn error(message: &str) -> PkiError {
    PkiError::decode(format!("json canonicalization: {message}"))
}

fn is_ws(c: u8) -> bool {
    matches!(c, 0x20 | 0x0a | 0x0d | 0x09)
}

struct Parser<'a> {
    data: &'a [u8],
    index: usize,
    depth: usize,
}

impl Parser<'_> {
    /// `nextChar`: one byte, which must be ASCII.
    fn next(&mut self) -> Result<u8, PkiError> {
        let Some(&c) = self.data.get(self.index) else {
            return Err(error("Unexpected EOF reached"));
        };
        if c > 0x7f {
            return Err(error("Unexpected non-ASCII character"));
        }
        self.index += 1;
        Ok(c)
    }

    /// `scan`: the next non-whitespace byte.
    fn scan(&mut self) -> Result<u8, PkiError> {
        loop {
            let c = self.next()?;
            if !is_ws(c) {
                return Ok(c);
            }
        }
    }

    fn scan_for(&mut self, expected: u8) -> Result<(), PkiError> {
        let c = self.scan()?;
        if c != expected {
            return Err(error(&format!(
                "Expected '{}' but got '{}'",
                char::from(expected),
                char::from(c)
            )));
        }
        Ok(())
    }

    /// `testNextNonWhiteSpaceChar`.
    fn peek_non_ws(&mut self) -> Result<u8, PkiError> {
        let save = self.index;
        let c = self.scan();
        self.index = save;
        c
    }

    fn element(&mut self) -> Result<Vec<u8>, PkiError> {
        match self.scan()? {
            b'{' => self.nested(Self::object),
            b'"' => Ok(decorate(&self.quoted_string()?)),
            b'[' => self.nested(Self::array),
            _ => self.simple_type(),
        }
    }

    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<Vec<u8>, PkiError>,
    ) -> Result<Vec<u8>, PkiError> {
        if self.depth >= MAX_NESTING {
            return Err(error("nesting too deep"));
        }
        self.depth += 1;
        let out = parse(self);
        self.depth -= 1;
        out
    }

    /// `getUEscape`: four ASCII hex digits.
    fn u_escape(&mut self) -> Result<u32, PkiError> {
        let mut value = 0;
        for _ in 0..4 {
            let c = self.next()?;
            let digit = char::from(c)
                .to_digit(16)
                .ok_or_else(|| error("invalid \\u escape"))?;
            value = (value << 4) | digit;
        }
        Ok(value)
    }

    /// `parseQuotedString`: the decoded bytes (not necessarily UTF-8).
    fn quoted_string(&mut self) -> Result<Vec<u8>, PkiError> {
        let mut raw = Vec::new();
        loop {
            let Some(&c) = self.data.get(self.index) else {
                return Err(error("Unexpected EOF reached"));
            };
            self.index += 1;
            match c {
                b'"' => return Ok(raw),
                c if c < b' ' => return Err(error("Unterminated string literal")),
                b'\\' => match self.next()? {
                    b'u' => {
                        let first = self.u_escape()?;
                        let ch = if (0xd800..0xe000).contains(&first) {
                            if self.next()? != b'\\' || self.next()? != b'u' {
                                return Err(error("Missing surrogate"));
                            }
                            let second = self.u_escape()?;
                            decode_surrogates(first, second)
                        } else {
                            char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER)
                        };
                        let mut buf = [0u8; 4];
                        raw.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    b'/' => raw.push(b'/'),
                    b'\\' => raw.push(b'\\'),
                    b'"' => raw.push(b'"'),
                    b'b' => raw.push(0x08),
                    b'f' => raw.push(0x0c),
                    b'n' => raw.push(b'\n'),
                    b'r' => raw.push(b'\r'),
                    b't' => raw.push(b'\t'),
                    other => {
                        return Err(error(&format!(
                            "Unexpected escape: \\{}",
                            char::from(other)
                        )))
                    }
                },
                c => raw.push(c),
            }
        }
    }

    /// `parseSimpleType`: a literal or a number, up to whitespace or a
    /// delimiter.
    fn simple_type(&mut self) -> Result<Vec<u8>, PkiError> {
        self.index -= 1;
        let mut token = Vec::new();
        loop {
            if matches!(self.peek_non_ws()?, b',' | b']' | b'}') {
                break;
            }
            let c = self.next()?;
            if is_ws(c) {
                break;
            }
            token.push(c);
        }
        if token.is_empty() {
            return Err(error("Missing argument"));
        }
        if matches!(token.as_slice(), b"true" | b"false" | b"null") {
            return Ok(token);
        }
        let text = std::str::from_utf8(&token).map_err(|_| error("invalid number"))?;
        if !is_json_number(text) {
            return Err(error(&format!("invalid number {text:?}")));
        }
        let value: f64 = text
            .parse()
            .map_err(|_| error(&format!("invalid number {text:?}")))?;
        Ok(es6_number(value)?.into_bytes())
    }

    fn array(&mut self) -> Result<Vec<u8>, PkiError> {
        let mut out = vec![b'['];
        let mut next = false;
        while self.peek_non_ws()? != b']' {
            if next {
                self.scan_for(b',')?;
                out.push(b',');
            } else {
                next = true;
            }
            out.extend(self.element()?);
        }
        self.scan()?;
        out.push(b']');
        Ok(out)
    }

    fn object(&mut self) -> Result<Vec<u8>, PkiError> {
        // (sort key, name, value), kept sorted.
        let mut members: Vec<(Vec<u16>, Vec<u8>, Vec<u8>)> = Vec::new();
        let mut next = false;
        while self.peek_non_ws()? != b'}' {
            if next {
                self.scan_for(b',')?;
            }
            next = true;
            self.scan_for(b'"')?;
            let name = self.quoted_string()?;
            let sort_key: Vec<u16> = lossy_utf8(&name).encode_utf16().collect();
            self.scan_for(b':')?;
            let value = self.element()?;
            let at = match members.binary_search_by(|m| m.0.cmp(&sort_key)) {
                Ok(_) => {
                    return Err(error(&format!(
                        "Duplicate key: {}",
                        String::from_utf8_lossy(&name)
                    )))
                }
                Err(at) => at,
            };
            members.insert(at, (sort_key, name, value));
        }
        self.scan()?;
        let mut out = vec![b'{'];
        for (i, (_, name, value)) in members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend(decorate(name));
            out.push(b':');
            out.extend_from_slice(value);
        }
        out.push(b'}');
        Ok(out)
    }
}

/// Go `utf16.DecodeRune`: a valid high/low pair, else U+FFFD.
fn decode_surrogates(first: u32, second: u32) -> char {
    if (0xd800..0xdc00).contains(&first) && (0xdc00..0xe000).contains(&second) {
        char::from_u32(0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00))
            .unwrap_or(char::REPLACEMENT_CHARACTER)
    } else {
        char::REPLACEMENT_CHARACTER
    }
}

/// `decorateString`: quotes, and escapes only what JCS requires.
fn decorate(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 2);
    out.push(b'"');
    for &c in raw {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c if c < 0x20 => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            c => out.push(c),
        }
    }
    out.push(b'"');
    out
}

/// The JSON number grammar (the only numbers Go's encoder writes).
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `NumberToJSON`: ECMAScript `Number.prototype.toString` of a `float64`
/// (shortest round-trip digits; plain notation from 1e-6 up to 1e21).
pub fn es6_number(value: f64) -> Result<String, PkiError> {
    if !value.is_finite() {
        return Err(error(&format!(
            "Invalid JSON number: {:x}",
            value.to_bits()
        )));
    }
    if value == 0.0 {
        return Ok("0".into());
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let (digits, exp) = shortest_digits(value.abs());
    // ECMAScript's n: the decimal point sits after n digits.
    let n = exp + 1;
    let k = digits.len() as i32;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let mantissa = if k > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        let e = n - 1;
        format!("{mantissa}e{}{}", if e < 0 { "-" } else { "+" }, e.abs())
    };
    Ok(format!("{sign}{body}"))
}

/// The shortest decimal digits that read back as `x` (positive, finite),
/// and the decimal exponent of the first digit. When two such digit
/// strings are equally close to `x`, Go (and ECMAScript) take the one
/// ending in an even digit; Rust's formatter may take the other one, so
/// that case is settled here from `x`'s exact decimal expansion.
fn shortest_digits(x: f64) -> (String, i32) {
    let (digits, exp) = split_e(&format!("{x:e}"));
    // A tie needs the next digit to be 5; rule that out cheaply first.
    let (next, _) = split_e(&format!("{x:.*e}", digits.len()));
    if !next.ends_with('5') {
        return (digits, exp);
    }
    // Every double's exact decimal expansion has fewer than 800 digits.
    let (exact, exact_exp) = split_e(&format!("{x:.800e}"));
    let exact = exact.trim_end_matches('0');
    let last_place = exp - digits.len() as i32 + 1;
    let exact_last_place = exact_exp - exact.len() as i32 + 1;
    if exact_last_place != last_place - 1 || !exact.ends_with('5') || exact.len() < 2 {
        return (digits, exp);
    }
    // `x` is exactly halfway between two candidates on the same grid.
    let low = exact[..exact.len() - 1].to_string();
    let (high, high_exp) = increment(&low, exact_exp);
    let reads_back = |d: &str, e: i32| {
        format!("{}.{}e{e}", &d[..1], &d[1..])
            .parse::<f64>()
            .is_ok_and(|v| v == x)
    };
    for (candidate, e) in [(low, exact_exp), (high, high_exp)] {
        let even = candidate
            .bytes()
            .last()
            .is_some_and(|d| (d - b'0') % 2 == 0);
        if even && reads_back(&candidate, e) {
            let trimmed = candidate.trim_end_matches('0');
            let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
            return (trimmed.to_string(), e);
        }
    }
    (digits, exp)
}

/// `d.ddde±x` → (`dddd`, x).
fn split_e(s: &str) -> (String, i32) {
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    (
        mantissa.chars().filter(char::is_ascii_digit).collect(),
        exp.parse().unwrap_or(0),
    )
}

/// Adds one unit in the last place of a digit string whose first digit has
/// decimal exponent `exp`; a carry out of the first digit raises `exp`.
fn increment(digits: &str, exp: i32) -> (String, i32) {
    let mut d: Vec<u8> = digits.bytes().collect();
    for i in (0..d.len()).rev() {
        if d[i] == b'9' {
            d[i] = b'0';
        } else {
            d[i] += 1;
            return (String::from_utf8_lossy(&d).into_owned(), exp);
        }
    }
    d.insert(0, b'1');
    d.pop();
    (String::from_utf8_lossy(&d).into_owned(), exp + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jcs(s: &str) -> String {
        String::from_utf8(transform(s.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn numbers_in_ecmascript_form() {
        // Expected values printed by cyberphone's NumberToJSON (Go).
        for (v, want) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (100.0, "100"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.2345e-7, "1.2345e-7"),
            (0.1 + 0.2, "0.30000000000000004"),
            (9007199254740993.0, "9007199254740992"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (1.0 / 3.0 * 1e9, "333333333.3333333"),
        ] {
            assert_eq!(es6_number(v).unwrap(), want, "{v:e}");
        }
        // Exact ties between two shortest candidates go to the even digit
        // (checked against Go; Rust's own formatter picks the odd one).
        for (bits, want) in [
            (14057787115652041333u64, "-1639069564023453.2"),
            (4819151983081465780, "150124419450173.62"),
            (4833854936157684609, "1499033904128224.2"),
        ] {
            assert_eq!(es6_number(f64::from_bits(bits)).unwrap(), want);
        }
        assert_eq!(increment("199", 2), ("200".to_string(), 2));
        assert_eq!(increment("99", 2), ("10".to_string(), 3));
        assert!(es6_number(f64::NAN).is_err());
        assert_eq!(jcs("[1E3, -0.0, 1e-7, 1.0]"), "[1000,0,1e-7,1]");
        assert!(transform(b"[1e400]").is_err());
        assert_eq!(jcs("[1e-400]"), "[0]");
    }

    #[test]
    fn members_sorted_by_utf16_and_duplicates_rejected() {
        // U+1F600 (surrogates D83D…) sorts before U+FFFD in UTF-16 order,
        // after it in code point order.
        assert_eq!(
            jcs("{\"\u{fffd}\":1,\"\u{1f600}\":2,\"b\":3,\"a\":{\"z\":[],\"y\":{}}}"),
            "{\"a\":{\"y\":{},\"z\":[]},\"b\":3,\"\u{1f600}\":2,\"\u{fffd}\":1}"
        );
        assert!(transform(br#"{"a":1,"a":2}"#).is_err());
        // Escaped and literal spellings of one name are the same name.
        assert!(transform(br#"{"a":1,"\u0061":2}"#).is_err());
    }

    #[test]
    fn strings_escaped_minimally() {
        assert_eq!(
            jcs(r#"["\u003c\/\u00e9\u001f\b\f\n\r\t\"\\\u2028"]"#),
            "[\"</\u{e9}\\u001f\\b\\f\\n\\r\\t\\\"\\\\\u{2028}\"]"
        );
        assert_eq!(jcs(r#"["\ud83d\ude00"]"#), "[\"\u{1f600}\"]");
        assert_eq!(jcs(r#"["\udc00\u0041"]"#), "[\"\u{fffd}\"]");
        assert!(transform(br#"["\ud83d"]"#).is_err());
        // Raw bytes in strings are copied, even when not UTF-8.
        assert_eq!(transform(b"[\"\xff\"]").unwrap(), b"[\"\xff\"]");
        // Outside strings only ASCII is allowed.
        assert!(transform("[1,\u{a0}2]".as_bytes()).is_err());
    }

    #[test]
    fn structure_errors() {
        assert!(transform(b"{\"a\":1} x").is_err());
        assert!(transform(b"\"top\"").is_err());
        assert!(transform(b"{\"a\":}").is_err());
        assert!(transform(b"{\"a\":1").is_err());
        assert_eq!(jcs(" { } "), "{}");
        let deep = "[".repeat(MAX_NESTING) + &"]".repeat(MAX_NESTING);
        assert!(transform(deep.as_bytes()).is_ok());
        let deeper = "[".repeat(MAX_NESTING + 1) + &"]".repeat(MAX_NESTING + 1);
        assert!(transform(deeper.as_bytes()).is_err());
        assert_eq!(jcs("[true,false,null]"), "[true,false,null]");
    }
}
