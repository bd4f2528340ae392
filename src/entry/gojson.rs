//! JSON as Go's `encoding/json` (Go 1.26, v1 API) reads it.
//!
//! Whether an entry parses, and which in-toto digests become keys, depends
//! on Go's decoder: invalid UTF-8 and unpaired `\u` surrogates become U+FFFD
//! instead of errors, numbers are never range-checked unless decoded into a
//! number, duplicate keys are all visited in order, struct fields match
//! case-insensitively, nesting may reach 10 000 levels. `serde_json` differs
//! on each point, so this module validates with Go's grammar (iteratively,
//! no recursion) and then offers a lazy, borrowed view: values stay byte
//! slices until a caller asks for a member, an element or a string.

use std::fmt;

use crate::pki::gostr::lossy_utf8;

/// Go's `maxNestingDepth`.
const MAX_DEPTH: usize = 10_000;

/// A JSON syntax error (Go would return a `*json.SyntaxError`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub offset: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for SyntaxError {}

/// What a JSON value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

/// One syntactically valid JSON value, exactly its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value<'a>(&'a [u8]);

/// Go `json.Unmarshal`: the whole input must be one value (whitespace
/// around it allowed).
pub fn unmarshal(input: &[u8]) -> Result<Value<'_>, SyntaxError> {
    let start = skip_ws(input, 0);
    let end = scan_value(input, start)?;
    let after = skip_ws(input, end);
    if after != input.len() {
        return Err(error("invalid character after top-level value", after));
    }
    Ok(Value(&input[start..end]))
}

/// Go `json.NewDecoder(r).Decode(…)`: the first value of the input; what
/// follows it is not read.
pub fn decode_first(input: &[u8]) -> Result<Value<'_>, SyntaxError> {
    let start = skip_ws(input, 0);
    let end = scan_value(input, start)?;
    Ok(Value(&input[start..end]))
}

impl<'a> Value<'a> {
    pub fn kind(&self) -> Kind {
        match self.0.first() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            _ => Kind::Number,
        }
    }

    /// The value's bytes as they appear in the input.
    pub fn raw(&self) -> &'a [u8] {
        self.0
    }

    /// The decoded string, Go-style (`None` if not a string).
    pub fn as_str(&self) -> Option<String> {
        (self.kind() == Kind::String).then(|| unquote(&self.0[1..self.0.len() - 1]))
    }

    /// Object members in input order, duplicates included (empty if not an
    /// object).
    pub fn members(&self) -> Members<'a> {
        Members {
            data: if self.kind() == Kind::Object {
                self.0
            } else {
                b""
            },
            pos: 1,
        }
    }

    /// Array elements in order (empty if not an array).
    pub fn elements(&self) -> Elements<'a> {
        Elements {
            data: if self.kind() == Kind::Array {
                self.0
            } else {
                b""
            },
            pos: 1,
        }
    }

    /// `map[string]any` lookup: the last member with exactly this key (Go
    /// maps keep the last duplicate). `None` if absent or not an object.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.members()
            .filter(|(k, _)| k == key)
            .last()
            .map(|(_, v)| v)
    }

    /// [`Value::get`] narrowed to a string value (Go's `m[k].(string)`).
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.get(key).and_then(|v| v.as_str())
    }

    /// [`Value::get`] narrowed to an object (Go's `m[k].(map[string]any)`).
    pub fn get_object(&self, key: &str) -> Option<Value<'a>> {
        self.get(key).filter(|v| v.kind() == Kind::Object)
    }

    /// [`Value::get`] narrowed to an array (Go's `m[k].([]any)`).
    pub fn get_array(&self, key: &str) -> Option<Value<'a>> {
        self.get(key).filter(|v| v.kind() == Kind::Array)
    }

    /// Every number inside this value (at any depth), as raw text. Used to
    /// mirror Go converting numbers to `float64` inside `interface{}` fields.
    pub fn numbers(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.0;
        let mut pos = 0;
        std::iter::from_fn(move || {
            while pos < data.len() {
                match data[pos] {
                    b'"' => pos = skip_string(data, pos),
                    b'-' | b'0'..=b'9' => {
                        let start = pos;
                        while pos < data.len() && is_number_byte(data[pos]) {
                            pos += 1;
                        }
                        return Some(&data[start..pos]);
                    }
                    _ => pos += 1,
                }
            }
            None
        })
    }
}

/// Iterator over object members.
pub struct Members<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (String, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let d = self.data;
        let mut pos = skip_ws(d, self.pos);
        if pos >= d.len() || d[pos] == b'}' {
            return None;
        }
        if d[pos] == b',' {
            pos = skip_ws(d, pos + 1);
        }
        let key_end = skip_string(d, pos);
        let key = unquote(&d[pos + 1..key_end - 1]);
        pos = skip_ws(d, key_end) + 1; // the ':'
        pos = skip_ws(d, pos);
        let value_end = skip_valid_value(d, pos);
        self.pos = value_end;
        Some((key, Value(&d[pos..value_end])))
    }
}

/// Iterator over array elements.
pub struct Elements<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let d = self.data;
        let mut pos = skip_ws(d, self.pos);
        if pos >= d.len() || d[pos] == b']' {
            return None;
        }
        if d[pos] == b',' {
            pos = skip_ws(d, pos + 1);
        }
        let end = skip_valid_value(d, pos);
        self.pos = end;
        Some(Value(&d[pos..end]))
    }
}

fn error(message: &str, offset: usize) -> SyntaxError {
    SyntaxError {
        message: message.to_string(),
        offset,
    }
}

fn skip_ws(d: &[u8], mut pos: usize) -> usize {
    while pos < d.len() && matches!(d[pos], b' ' | b'\t' | b'\n' | b'\r') {
        pos += 1;
    }
    pos
}

fn is_number_byte(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
}

/// Validates one value starting at `pos` with Go's scanner rules and
/// returns where it ends. Iterative: nesting costs heap, not stack.
fn scan_value(d: &[u8], mut pos: usize) -> Result<usize, SyntaxError> {
    let mut stack: Vec<u8> = Vec::new();
    'value: loop {
        pos = skip_ws(d, pos);
        let Some(&c) = d.get(pos) else {
            return Err(error("unexpected end of JSON input", pos));
        };
        match c {
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH {
                    return Err(error("exceeded max depth", pos));
                }
                stack.push(c);
                pos = skip_ws(d, pos + 1);
                match (c, d.get(pos)) {
                    (b'{', Some(b'}')) | (b'[', Some(b']')) => {
                        stack.pop();
                        pos += 1;
                    }
                    (b'{', _) => {
                        pos = scan_key(d, pos)?;
                        continue 'value;
                    }
                    _ => continue 'value,
                }
            }
            b'"' => pos = scan_string(d, pos)?,
            b'-' | b'0'..=b'9' => pos = scan_number(d, pos)?,
            b't' => pos = scan_literal(d, pos, b"true")?,
            b'f' => pos = scan_literal(d, pos, b"false")?,
            b'n' => pos = scan_literal(d, pos, b"null")?,
            _ => {
                return Err(error(
                    "invalid character looking for beginning of value",
                    pos,
                ))
            }
        }
        // After a complete value: close containers or move to the next item.
        loop {
            let Some(&top) = stack.last() else {
                return Ok(pos);
            };
            pos = skip_ws(d, pos);
            match (top, d.get(pos)) {
                (b'{', Some(b',')) => {
                    pos = scan_key(d, skip_ws(d, pos + 1))?;
                    continue 'value;
                }
                (b'[', Some(b',')) => {
                    pos += 1;
                    continue 'value;
                }
                (b'{', Some(b'}')) | (b'[', Some(b']')) => {
                    stack.pop();
                    pos += 1;
                }
                (_, None) => return Err(error("unexpected end of JSON input", pos)),
                _ => return Err(error("invalid character after value", pos)),
            }
        }
    }
}

/// An object key and its colon; returns the position after the colon.
fn scan_key(d: &[u8], pos: usize) -> Result<usize, SyntaxError> {
    match d.get(pos) {
        Some(b'"') => {}
        None => return Err(error("unexpected end of JSON input", pos)),
        _ => {
            return Err(error(
                "invalid character looking for beginning of object key string",
                pos,
            ))
        }
    }
    let end = skip_ws(d, scan_string(d, pos)?);
    match d.get(end) {
        Some(b':') => Ok(end + 1),
        None => Err(error("unexpected end of JSON input", end)),
        _ => Err(error("invalid character after object key", end)),
    }
}

fn scan_string(d: &[u8], start: usize) -> Result<usize, SyntaxError> {
    let mut pos = start + 1;
    loop {
        let Some(&c) = d.get(pos) else {
            return Err(error("unexpected end of JSON input", pos));
        };
        match c {
            b'"' => return Ok(pos + 1),
            b'\\' => match d.get(pos + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => pos += 2,
                Some(b'u') => {
                    let hex = d.get(pos + 2..pos + 6);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        return Err(error(
                            "invalid character in \\u hexadecimal character escape",
                            pos,
                        ));
                    }
                    pos += 6;
                }
                Some(_) => return Err(error("invalid character in string escape code", pos)),
                None => return Err(error("unexpected end of JSON input", pos)),
            },
            0x00..=0x1f => return Err(error("invalid character in string literal", pos)),
            _ => pos += 1,
        }
    }
}

fn scan_number(d: &[u8], mut pos: usize) -> Result<usize, SyntaxError> {
    let digits = |d: &[u8], mut p: usize| {
        while p < d.len() && d[p].is_ascii_digit() {
            p += 1;
        }
        p
    };
    if d[pos] == b'-' {
        pos += 1;
    }
    match d.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = digits(d, pos),
        _ => return Err(error("invalid character in numeric literal", pos)),
    }
    if d.get(pos) == Some(&b'.') {
        if !d.get(pos + 1).is_some_and(u8::is_ascii_digit) {
            return Err(error(
                "invalid character after decimal point in numeric literal",
                pos,
            ));
        }
        pos = digits(d, pos + 1);
    }
    if matches!(d.get(pos), Some(b'e' | b'E')) {
        pos += 1;
        if matches!(d.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        if !d.get(pos).is_some_and(u8::is_ascii_digit) {
            return Err(error(
                "invalid character in exponent of numeric literal",
                pos,
            ));
        }
        pos = digits(d, pos);
    }
    Ok(pos)
}

fn scan_literal(d: &[u8], pos: usize, word: &[u8]) -> Result<usize, SyntaxError> {
    if d.get(pos..pos + word.len()) == Some(word) {
        Ok(pos + word.len())
    } else {
        Err(error("invalid character in literal", pos))
    }
}

/// End of the string starting at `pos` in already-validated input. Lazy
/// access skips the same long strings (keys, certificates) at every level,
/// so this jumps from quote or backslash to the next with `memchr`.
fn skip_string(d: &[u8], pos: usize) -> usize {
    let mut p = pos + 1;
    while let Some(i) = d
        .get(p..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        p += i;
        if d[p] == b'"' {
            return p + 1;
        }
        p += 2;
    }
    d.len()
}

/// End of the value starting at `pos` in already-validated input.
fn skip_valid_value(d: &[u8], pos: usize) -> usize {
    match d.get(pos) {
        Some(b'"') => skip_string(d, pos),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut p = pos;
            while p < d.len() {
                match d[p] {
                    b'"' => {
                        p = skip_string(d, p);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return p + 1;
                        }
                    }
                    _ => {}
                }
                p += 1;
            }
            d.len()
        }
        _ => {
            let mut p = pos;
            while p < d.len() && !matches!(d[p], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                p += 1;
            }
            p
        }
    }
}

/// Go's `unquote` on the bytes between the quotes of a valid string.
fn unquote(s: &[u8]) -> String {
    if !s.contains(&b'\\') {
        return lossy_utf8(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            let next = s[i..]
                .iter()
                .position(|&b| b == b'\\')
                .map_or(s.len(), |p| i + p);
            out.push_str(&lossy_utf8(&s[i..next]));
            i = next;
            continue;
        }
        match s[i + 1] {
            b'u' => {
                let first = hex4(&s[i + 2..i + 6]);
                i += 6;
                if (0xd800..0xe000).contains(&first) {
                    let second = (s.get(i) == Some(&b'\\') && s.get(i + 1) == Some(&b'u'))
                        .then(|| s.get(i + 2..i + 6).map(hex4))
                        .flatten();
                    match second {
                        Some(low)
                            if (0xd800..0xdc00).contains(&first)
                                && (0xdc00..0xe000).contains(&low) =>
                        {
                            let c = 0x10000 + ((first - 0xd800) << 10) + (low - 0xdc00);
                            out.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                            i += 6;
                        }
                        _ => out.push(char::REPLACEMENT_CHARACTER),
                    }
                } else {
                    out.push(char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
            }
            c => {
                out.push(match c {
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    other => char::from(other), // '"', '\\', '/'
                });
                i += 2;
            }
        }
    }
    out
}

fn hex4(h: &[u8]) -> u32 {
    h.iter()
        .fold(0, |n, &c| (n << 4) | (c as char).to_digit(16).unwrap_or(0))
}

/// Go `encoding/json` struct-field name matching: exact match first, else
/// `bytes.EqualFold`-style folding. Field names here are ASCII, and the only
/// non-ASCII characters that fold onto ASCII letters are U+017F (ſ → S) and
/// U+212A (K → K).
pub fn field_matches(key: &str, field: &str) -> bool {
    if key == field {
        return true;
    }
    let fold = |c: char| match c {
        '\u{17f}' => 'S',
        '\u{212a}' => 'K',
        c => c.to_ascii_uppercase(),
    };
    key.chars().map(fold).eq(field.chars().map(fold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_go() {
        for ok in [
            "{}",
            "[]",
            "0",
            "-0.5e+10",
            "\"a\"",
            "true",
            " null ",
            "{\"a\":[1,{\"b\":null}]}",
            "\"\u{7f}\"",
            "[\"\\u00e9\"]",
        ] {
            assert!(unmarshal(ok.as_bytes()).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "\"\t\"",
            "\"\\x\"",
            "{a:1}",
            "[1] x",
            "\"\\u12\"",
            "{\"a\":1,}",
        ] {
            assert!(unmarshal(bad.as_bytes()).is_err(), "{bad}");
        }
        // Invalid UTF-8 inside strings is fine (Go replaces it).
        assert!(unmarshal(b"\"\xff\"").is_ok());
        assert!(unmarshal(b"\xff").is_err());
    }

    #[test]
    fn decode_first_ignores_trailing_bytes() {
        let v = decode_first(b" {\"a\":1} garbage").unwrap();
        assert_eq!(v.raw(), b"{\"a\":1}");
        assert!(unmarshal(b"{\"a\":1} garbage").is_err());
    }

    #[test]
    fn skipping_strings_steps_over_escapes() {
        for s in [
            r#""""#,
            r#""a\"b""#,
            r#""\\""#,
            r#""x\\\"y\\""#,
            r#""\u0022""#,
        ] {
            let doc = format!("[{s},1]");
            assert_eq!(skip_string(doc.as_bytes(), 1), 1 + s.len(), "{s}");
            assert_eq!(skip_valid_value(doc.as_bytes(), 0), doc.len(), "{s}");
        }
        // Unterminated (not valid input, but never out of bounds).
        assert_eq!(skip_string(br#""ab\"#, 0), 4);
        assert_eq!(skip_string(b"\"ab", 0), 3);
    }

    #[test]
    fn depth_limit_is_goes_ten_thousand() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(unmarshal(ok.as_bytes()).is_ok());
        let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(unmarshal(too_deep.as_bytes()).is_err());
    }

    #[test]
    fn strings_decode_like_go() {
        let s = |j: &[u8]| unmarshal(j).unwrap().as_str().unwrap();
        assert_eq!(s(b"\"a\\u00e9\\n\\/\""), "aé\n/");
        assert_eq!(s(b"\"\\ud83d\\ude00\""), "😀");
        assert_eq!(s(b"\"\\ud83dx\""), "\u{fffd}x");
        assert_eq!(s(b"\"\\ude00\\ud83d\\ude00\""), "\u{fffd}😀");
        assert_eq!(s(b"\"\\ud83d\\ud83d\\ude00\""), "\u{fffd}😀");
        assert_eq!(s(b"\"a\xe2\x82b\""), "a\u{fffd}\u{fffd}b");
    }

    #[test]
    fn members_keep_duplicates_and_get_takes_the_last() {
        let v = unmarshal(b"{\"a\":1, \"b\" : {\"c\":[1,2]}, \"a\":\"x\"}").unwrap();
        let keys: Vec<String> = v.members().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "a"]);
        assert_eq!(v.get_str("a").as_deref(), Some("x"));
        let c = v.get_object("b").unwrap().get_array("c").unwrap();
        assert_eq!(
            c.elements().map(|e| e.raw()).collect::<Vec<_>>(),
            [b"1", b"2"]
        );
        assert!(v.get("A").is_none());
        assert_eq!(unmarshal(b"[]").unwrap().elements().count(), 0);
        assert_eq!(unmarshal(b"{}").unwrap().members().count(), 0);
    }

    #[test]
    fn numbers_are_found_at_any_depth_but_not_in_strings() {
        let v = unmarshal(b"{\"a\":[1e400,{\"b\":-2}],\"c\":\"3\"}").unwrap();
        let found: Vec<&[u8]> = v.numbers().collect();
        assert_eq!(found, [&b"1e400"[..], b"-2"]);
    }

    #[test]
    fn field_matching_folds_case() {
        assert!(field_matches("subject", "subject"));
        assert!(field_matches("SUBJECT", "subject"));
        assert!(field_matches("\u{17f}ubject", "subject"));
        assert!(field_matches("\u{212a}ind", "kind"));
        assert!(!field_matches("subjects", "subject"));
        assert!(!field_matches("_TYPE", "type"));
        assert!(field_matches("_TYPE", "_type"));
    }
}
