//! Go `encoding/json` decoding into typed Go structs, as type checks over a
//! [`gojson`](super::gojson) value.
//!
//! Whether `json.Unmarshal` into a struct fails decides whether Go indexes
//! an entry (in-toto statements, TUF metadata). Go matches member names to
//! fields case-insensitively, visits repeated members in order, skips
//! `null` for non-pointer scalars, and reports a value of the wrong JSON
//! type as an `UnmarshalTypeError` — after decoding the rest, but the call
//! fails all the same. So a check here is "would this member make the call
//! fail?", plus the decoded value where a key needs it.

use super::gojson::{field_matches, Kind, Value};
use crate::pki::gotime;

/// A Go decoding error: the whole `json.Unmarshal` call fails.
#[derive(Debug)]
pub struct TypeError;

pub type Decoded<T = ()> = Result<T, TypeError>;

/// Decodes a struct: `fields` gets each member whose name matches one of
/// `names` (Go folding), as its index. `null` is a no-op, other non-objects
/// a type error.
pub fn decode_struct<'a>(
    value: Value<'a>,
    names: &[&str],
    mut fields: impl FnMut(usize, Value<'a>) -> Decoded,
) -> Decoded {
    match value.kind() {
        Kind::Null => Ok(()),
        Kind::Object => {
            for (key, member) in value.members() {
                let exact = names.iter().position(|n| *n == key);
                let index = exact.or_else(|| names.iter().position(|n| field_matches(&key, n)));
                if let Some(i) = index {
                    fields(i, member)?;
                }
            }
            Ok(())
        }
        _ => Err(TypeError),
    }
}

/// Type check of a Go `string` field.
pub fn check_string(v: Value<'_>) -> Decoded {
    decode_string(v, &mut String::new())
}

/// A Go `string` field: a string replaces `into`, `null` leaves it.
pub fn decode_string(v: Value<'_>, into: &mut String) -> Decoded {
    match v.kind() {
        Kind::String => {
            *into = v.as_str().unwrap_or_default();
            Ok(())
        }
        Kind::Null => Ok(()),
        _ => Err(TypeError),
    }
}

/// Type check of a Go `bool` field.
pub fn check_bool(v: Value<'_>) -> Decoded {
    match v.kind() {
        Kind::Bool | Kind::Null => Ok(()),
        _ => Err(TypeError),
    }
}

/// A Go `int`/`int64` field: the number's literal must be a decimal
/// integer in range (`strconv.ParseInt(…, 10, 64)`); `null` leaves `into`.
pub fn decode_int(v: Value<'_>, into: &mut i64) -> Decoded {
    match v.kind() {
        Kind::Null => Ok(()),
        Kind::Number => {
            let text = std::str::from_utf8(v.raw()).map_err(|_| TypeError)?;
            let digits = text.strip_prefix('-').unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TypeError);
            }
            *into = text.parse().map_err(|_| TypeError)?;
            Ok(())
        }
        _ => Err(TypeError),
    }
}

/// A `[]string` field: `null` or an array of strings (or `null`s).
pub fn check_string_slice(v: Value<'_>) -> Decoded {
    match v.kind() {
        Kind::Null => Ok(()),
        Kind::Array => v.elements().try_for_each(check_string),
        _ => Err(TypeError),
    }
}

/// A `map[string]T` field: `null` or an object whose values pass `value`.
pub fn check_map(v: Value<'_>, mut value: impl FnMut(Value<'_>) -> Decoded) -> Decoded {
    match v.kind() {
        Kind::Null => Ok(()),
        Kind::Object => v.members().try_for_each(|(_, m)| value(m)),
        _ => Err(TypeError),
    }
}

/// An `interface{}` field: anything, but numbers become `float64` and fail
/// when out of range.
pub fn check_any(v: Value<'_>) -> Decoded {
    let overflows = |n: &[u8]| {
        std::str::from_utf8(n)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .is_none_or(f64::is_infinite)
    };
    if v.numbers().any(overflows) {
        Err(TypeError)
    } else {
        Ok(())
    }
}

/// A `time.Time` or `*time.Time` field: `null`, or a JSON string whose raw
/// text (escapes not processed) `time.Parse(time.RFC3339, …)` accepts.
pub fn check_time(v: Value<'_>) -> Decoded {
    match v.kind() {
        Kind::Null => Ok(()),
        Kind::String => {
            let raw = v.raw();
            if gotime::valid_rfc3339(&raw[1..raw.len() - 1]) {
                Ok(())
            } else {
                Err(TypeError)
            }
        }
        _ => Err(TypeError),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::gojson::unmarshal;

    #[test]
    fn ints_are_decimal_integers_in_range() {
        let mut n = 7;
        for (text, ok, want) in [
            ("12", true, 12),
            ("-0", true, 0),
            ("null", true, 0),
            ("1.0", false, 0),
            ("1e2", false, 0),
            ("9223372036854775808", false, 0),
            ("\"1\"", false, 0),
        ] {
            n = if text == "null" { 0 } else { n };
            let v = unmarshal(text.as_bytes()).unwrap();
            assert_eq!(decode_int(v, &mut n).is_ok(), ok, "{text}");
            if ok {
                assert_eq!(n, want, "{text}");
            }
        }
    }

    #[test]
    fn strings_and_containers() {
        let mut s = "keep".to_string();
        decode_string(unmarshal(b"null").unwrap(), &mut s).unwrap();
        assert_eq!(s, "keep");
        decode_string(unmarshal(br#""a\u00e9""#).unwrap(), &mut s).unwrap();
        assert_eq!(s, "a\u{e9}");
        assert!(decode_string(unmarshal(b"1").unwrap(), &mut s).is_err());
        assert!(check_string_slice(unmarshal(br#"["a",null]"#).unwrap()).is_ok());
        assert!(check_string_slice(unmarshal(br#"["a",1]"#).unwrap()).is_err());
        assert!(check_map(unmarshal(br#"{"a":true}"#).unwrap(), check_bool).is_ok());
        assert!(check_map(unmarshal(br#"{"a":1}"#).unwrap(), check_bool).is_err());
        assert!(check_map(unmarshal(b"[]").unwrap(), check_bool).is_err());
    }
}
