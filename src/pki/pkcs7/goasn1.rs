//! Go `encoding/asn1` `Unmarshal` and `Marshal`, for Go struct types
//! described as data ([`Ty`]).
//!
//! A JAR entry's key is the hash of a PKCS #7 structure that relic decodes
//! with `asn1.Unmarshal` into Go structs and writes back with
//! `asn1.Marshal`. The bytes that come out are decided by Go's reflection
//! rules: which elements a struct field accepts (tags, `optional`,
//! `explicit`, `default`, a field that takes the raw element), what is
//! silently skipped (trailing elements of a SEQUENCE), what is re-encoded
//! (algorithm identifiers, integers) or copied (raw values, the raw bytes of
//! a struct that has a `RawContent` field), that a `set` slice is sorted by
//! its encodings and that a zero-valued `optional` field is left out. A DER
//! crate has its own, stricter ideas on each point, so this module walks a
//! schema the way Go walks a struct type. It ports only what relic's PKCS #7
//! and RFC 3161 types use: no `application`/`private` classes, no flags, no
//! enumerations; and values of a kind that relic never re-marshals (times,
//! strings, `interface{}`) cannot be marshalled here.

use std::cmp::Ordering;
use std::fmt;

use crate::pki::der::{go_asn1_string, tag};
use crate::pki::gotime;

/// A Go field type, as far as `encoding/asn1` distinguishes them.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// `int` (64-bit).
    Int,
    /// `*big.Int`.
    BigInt,
    Bool,
    /// `asn1.ObjectIdentifier`.
    Oid,
    /// `asn1.BitString`.
    BitString,
    /// `[]byte`: an OCTET STRING.
    Bytes,
    /// `time.Time`: UTCTime or GeneralizedTime.
    Time,
    /// `string`: PrintableString and friends.
    Str,
    /// `asn1.RawValue`: any element, kept as it is.
    Raw,
    /// `interface{}`: any element; universal primitives are checked.
    Any,
    Struct(&'static Struct),
    /// A slice of elements; `set_named` when the Go slice type's name ends
    /// in `SET` (then it is a SET OF by itself).
    Slice {
        elem: &'static Ty,
        set_named: bool,
    },
}

/// A Go struct type.
#[derive(Debug)]
pub struct Struct {
    /// The first Go field is an `asn1.RawContent` (not listed in `fields`).
    pub raw_content: bool,
    pub fields: &'static [Field],
}

/// One struct field and its `asn1:"…"` tag.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub ty: Ty,
    pub params: Params,
}

/// The parts of Go's `fieldParameters` that relic's types use.
#[derive(Clone, Copy, Debug, Default)]
pub struct Params {
    pub optional: bool,
    pub explicit: bool,
    /// `tag:n` (context-specific class).
    pub tag: Option<u32>,
    pub set: bool,
    pub default: Option<i64>,
}

impl Params {
    pub const NONE: Params = Params {
        optional: false,
        explicit: false,
        tag: None,
        set: false,
        default: None,
    };
}

impl Field {
    pub const fn new(ty: Ty) -> Field {
        Field {
            ty,
            params: Params::NONE,
        }
    }

    pub const fn optional(mut self) -> Field {
        self.params.optional = true;
        self
    }

    pub const fn explicit(mut self) -> Field {
        self.params.explicit = true;
        self
    }

    pub const fn tag(mut self, n: u32) -> Field {
        self.params.tag = Some(n);
        self
    }

    pub const fn set(mut self) -> Field {
        self.params.set = true;
        self
    }

    pub const fn default(mut self, d: i64) -> Field {
        self.params.default = Some(d);
        self
    }
}

/// A decoded value. Slices of the input are kept where Go keeps bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val<'a> {
    /// An `optional` field that was absent: Go's zero value.
    Zero,
    Int(i64),
    /// Minimal two's-complement contents.
    BigInt(&'a [u8]),
    Bool(bool),
    /// Validated contents; Go re-encodes a parsed OID to the same bytes.
    Oid(&'a [u8]),
    BitString {
        padding: u8,
        bytes: &'a [u8],
    },
    Bytes(&'a [u8]),
    /// A time, string or `interface{}` value: checked, not kept.
    Opaque,
    Raw(RawValue<'a>),
    Struct {
        raw: Option<&'a [u8]>,
        fields: Vec<Val<'a>>,
    },
    Slice(Vec<Val<'a>>),
}

/// `asn1.RawValue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawValue<'a> {
    pub class: u8,
    pub tag: u32,
    pub compound: bool,
    /// Contents.
    pub bytes: &'a [u8],
    /// Header and contents.
    pub full: &'a [u8],
}

/// Go's error types matter: relic treats an `asn1.SyntaxError` while
/// re-reading a content info as "no content", anything else as an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Asn1Error {
    Syntax(String),
    Structural(String),
    Other(String),
}

impl fmt::Display for Asn1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Asn1Error::Syntax(m) => write!(f, "asn1: syntax error: {m}"),
            Asn1Error::Structural(m) => write!(f, "asn1: structure error: {m}"),
            Asn1Error::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Asn1Error {}

fn syntax(m: &str) -> Asn1Error {
    Asn1Error::Syntax(m.to_string())
}

fn structural(m: &str) -> Asn1Error {
    Asn1Error::Structural(m.to_string())
}

const CLASS_UNIVERSAL: u8 = 0;
const CLASS_CONTEXT: u8 = 2;

/// A parsed identifier and length (Go's `tagAndLength`).
#[derive(Clone, Copy, Debug)]
struct Header {
    class: u8,
    tag: u32,
    length: usize,
    compound: bool,
}

/// `asn1.Unmarshal(b, &v)`: the value and the bytes after it.
pub fn unmarshal<'a>(b: &'a [u8], ty: &Ty) -> Result<(Val<'a>, &'a [u8]), Asn1Error> {
    let (val, offset) = parse_field(ty, b, 0, &Params::NONE)?;
    Ok((val, &b[offset..]))
}

/// Go's `parseBase128Int`.
fn base128(b: &[u8], mut offset: usize) -> Result<(u32, usize), Asn1Error> {
    let mut value: i64 = 0;
    let mut shifted = 0;
    while offset < b.len() {
        if shifted == 5 {
            return Err(structural("base 128 integer too large"));
        }
        value <<= 7;
        let byte = b[offset];
        if shifted == 0 && byte == 0x80 {
            return Err(syntax("integer is not minimally encoded"));
        }
        value |= i64::from(byte & 0x7f);
        offset += 1;
        if byte & 0x80 == 0 {
            return u32::try_from(value)
                .ok()
                .filter(|v| *v <= i32::MAX as u32)
                .map(|v| (v, offset))
                .ok_or_else(|| structural("base 128 integer too large"));
        }
        shifted += 1;
    }
    Err(syntax("truncated base 128 integer"))
}

/// Go's `parseTagAndLength`.
fn parse_header(b: &[u8], mut offset: usize) -> Result<(Header, usize), Asn1Error> {
    let Some(&first) = b.get(offset) else {
        return Err(Asn1Error::Other(
            "asn1: internal error in parseTagAndLength".into(),
        ));
    };
    offset += 1;
    let mut h = Header {
        class: first >> 6,
        compound: first & 0x20 != 0,
        tag: u32::from(first & 0x1f),
        length: 0,
    };
    if h.tag == 0x1f {
        let (t, next) = base128(b, offset)?;
        offset = next;
        if t < 0x1f {
            return Err(syntax("non-minimal tag"));
        }
        h.tag = t;
    }
    let Some(&len_byte) = b.get(offset) else {
        return Err(syntax("truncated tag or length"));
    };
    offset += 1;
    if len_byte & 0x80 == 0 {
        h.length = usize::from(len_byte & 0x7f);
    } else {
        let num_bytes = usize::from(len_byte & 0x7f);
        if num_bytes == 0 {
            return Err(syntax("indefinite length found (not DER)"));
        }
        let mut length: usize = 0;
        for _ in 0..num_bytes {
            let Some(&byte) = b.get(offset) else {
                return Err(syntax("truncated tag or length"));
            };
            offset += 1;
            if length >= 1 << 23 {
                return Err(structural("length too large"));
            }
            length = (length << 8) | usize::from(byte);
            if length == 0 {
                return Err(structural("superfluous leading zeros in length"));
            }
        }
        if length < 0x80 {
            return Err(structural("non-minimal length"));
        }
        h.length = length;
    }
    Ok((h, offset))
}

/// Go's `getUniversalType`: (matchAny, tag, compound).
fn universal_type(ty: &Ty) -> (bool, u32, bool) {
    match ty {
        Ty::Raw | Ty::Any => (true, 0, false),
        Ty::Oid => (false, tag::OID.into(), false),
        Ty::BitString => (false, tag::BIT_STRING.into(), false),
        Ty::Time => (false, tag::UTC_TIME.into(), false),
        Ty::BigInt | Ty::Int => (false, tag::INTEGER.into(), false),
        Ty::Bool => (false, tag::BOOLEAN.into(), false),
        Ty::Bytes => (false, tag::OCTET_STRING.into(), false),
        Ty::Str => (false, tag::PRINTABLE_STRING.into(), false),
        Ty::Struct(_) => (false, u32::from(tag::SEQUENCE & 0x1f), true),
        Ty::Slice { set_named, .. } => {
            let t = if *set_named { tag::SET } else { tag::SEQUENCE };
            (false, u32::from(t & 0x1f), true)
        }
    }
}

/// The value Go leaves in a field that is absent (`setDefaultValue`), or
/// `None` when the field is not optional.
fn default_value(ty: &Ty, params: &Params) -> Option<Val<'static>> {
    if !params.optional {
        return None;
    }
    match (params.default, ty) {
        (Some(d), Ty::Int) => Some(Val::Int(d)),
        _ => Some(Val::Zero),
    }
}

/// Universal string tags that a `string` field accepts as they are.
const STRING_TAGS: [u8; 6] = [
    tag::IA5_STRING,
    tag::GENERAL_STRING,
    tag::T61_STRING,
    tag::UTF8_STRING,
    tag::NUMERIC_STRING,
    tag::BMP_STRING,
];

/// Go's `parseField`: one field of type `ty` at `offset`.
fn parse_field<'a>(
    ty: &Ty,
    b: &'a [u8],
    init: usize,
    params: &Params,
) -> Result<(Val<'a>, usize), Asn1Error> {
    if init == b.len() {
        return default_value(ty, params)
            .map(|v| (v, init))
            .ok_or_else(|| syntax("sequence truncated"));
    }
    if let Ty::Any = ty {
        let (h, offset) = parse_header(b, init)?;
        if invalid_length(offset, h.length, b.len()) {
            return Err(syntax("data truncated"));
        }
        let inner = &b[offset..offset + h.length];
        if !h.compound && h.class == CLASS_UNIVERSAL {
            check_any(h.tag, inner)?;
        }
        return Ok((Val::Opaque, offset + h.length));
    }

    let (mut h, mut offset) = parse_header(b, init)?;
    if params.explicit {
        let want = params.tag.unwrap_or(0);
        if offset == b.len() {
            return Err(structural("explicit tag has no child"));
        }
        if h.class == CLASS_CONTEXT && h.tag == want && (h.length == 0 || h.compound) {
            if matches!(ty, Ty::Raw) {
                // The raw value is the explicit element itself.
            } else if h.length > 0 {
                (h, offset) = parse_header(b, offset)?;
            } else {
                return Err(structural("zero length explicit tag was not an asn1.Flag"));
            }
        } else {
            return default_value(ty, params)
                .map(|v| (v, init))
                .ok_or_else(|| structural("explicitly tagged member didn't match"));
        }
    }

    let (match_any, mut universal, compound) = universal_type(ty);
    if let Ty::Str = ty {
        if h.class == CLASS_UNIVERSAL && STRING_TAGS.iter().any(|t| u32::from(*t) == h.tag) {
            universal = h.tag;
        }
    }
    if let Ty::Time = ty {
        if h.class == CLASS_UNIVERSAL && h.tag == u32::from(tag::GENERALIZED_TIME) {
            universal = h.tag;
        }
    }
    if params.set {
        universal = u32::from(tag::SET & 0x1f);
    }
    let mut match_any_class_and_tag = match_any;
    let mut expected_class = CLASS_UNIVERSAL;
    let mut expected_tag = universal;
    if !params.explicit {
        if let Some(t) = params.tag {
            expected_class = CLASS_CONTEXT;
            expected_tag = t;
            match_any_class_and_tag = false;
        }
    }
    if (!match_any_class_and_tag && (h.class != expected_class || h.tag != expected_tag))
        || (!match_any && h.compound != compound)
    {
        return default_value(ty, params).map(|v| (v, init)).ok_or_else(|| {
            Asn1Error::Structural(format!(
                "tags don't match ({expected_tag} vs class {} tag {} compound {})",
                h.class, h.tag, h.compound
            ))
        });
    }
    if invalid_length(offset, h.length, b.len()) {
        return Err(syntax("data truncated"));
    }
    let inner = &b[offset..offset + h.length];
    let end = offset + h.length;
    let val = match ty {
        Ty::Raw => Val::Raw(RawValue {
            class: h.class,
            tag: h.tag,
            compound: h.compound,
            bytes: inner,
            full: &b[init..end],
        }),
        Ty::Oid => {
            parse_oid(inner)?;
            Val::Oid(inner)
        }
        Ty::BitString => {
            let (padding, bytes) = parse_bit_string(inner)?;
            Val::BitString { padding, bytes }
        }
        Ty::Time => {
            let ok = if universal == u32::from(tag::UTC_TIME) {
                gotime::valid_utc_time(inner)
            } else {
                valid_asn1_generalized_time(inner)
            };
            if !ok {
                return Err(Asn1Error::Other(
                    "asn1: time did not parse or did not serialize back to the original value"
                        .into(),
                ));
            }
            Val::Opaque
        }
        Ty::BigInt => {
            check_integer(inner)?;
            Val::BigInt(inner)
        }
        Ty::Bool => Val::Bool(parse_bool(inner)?),
        Ty::Int => Val::Int(parse_i64(inner)?),
        Ty::Bytes => Val::Bytes(inner),
        Ty::Str => {
            let t = u8::try_from(universal).unwrap_or(0);
            parse_string(t, inner)?;
            Val::Opaque
        }
        Ty::Struct(s) => {
            let mut fields = Vec::with_capacity(s.fields.len());
            let mut inner_offset = 0;
            for f in s.fields {
                let (v, next) = parse_field(&f.ty, inner, inner_offset, &f.params)?;
                fields.push(v);
                inner_offset = next;
            }
            Val::Struct {
                raw: s.raw_content.then_some(&b[init..end]),
                fields,
            }
        }
        Ty::Slice { elem, .. } => Val::Slice(parse_sequence_of(inner, elem)?),
        // Decoded above; kept for exhaustiveness.
        Ty::Any => Val::Opaque,
    };
    Ok((val, end))
}

/// Go's `parseSequenceOf`: checks every element's tag first, then parses.
fn parse_sequence_of<'a>(b: &'a [u8], elem: &Ty) -> Result<Vec<Val<'a>>, Asn1Error> {
    let (match_any, expected_tag, compound) = universal_type(elem);
    let mut count = 0;
    let mut offset = 0;
    while offset < b.len() {
        let (mut h, next) = parse_header(b, offset)?;
        offset = next;
        if let Ok(t) = u8::try_from(h.tag) {
            if STRING_TAGS.contains(&t) {
                h.tag = tag::PRINTABLE_STRING.into();
            } else if t == tag::GENERALIZED_TIME || t == tag::UTC_TIME {
                h.tag = tag::UTC_TIME.into();
            }
        }
        if !match_any
            && (h.class != CLASS_UNIVERSAL || h.compound != compound || h.tag != expected_tag)
        {
            return Err(structural("sequence tag mismatch"));
        }
        if invalid_length(offset, h.length, b.len()) {
            return Err(syntax("truncated sequence"));
        }
        offset += h.length;
        count += 1;
    }
    let mut out = Vec::with_capacity(count);
    let mut offset = 0;
    for _ in 0..count {
        let (v, next) = parse_field(elem, b, offset, &Params::NONE)?;
        out.push(v);
        offset = next;
    }
    Ok(out)
}

fn invalid_length(offset: usize, length: usize, len: usize) -> bool {
    offset.checked_add(length).is_none_or(|end| end > len)
}

/// What Go's `interface{}` decoding checks for a universal primitive.
fn check_any(t: u32, inner: &[u8]) -> Result<(), Asn1Error> {
    let Ok(t) = u8::try_from(t) else {
        return Ok(());
    };
    match t {
        tag::BOOLEAN => parse_bool(inner).map(drop),
        tag::INTEGER => parse_i64(inner).map(drop),
        tag::BIT_STRING => parse_bit_string(inner).map(drop),
        tag::OID => parse_oid(inner),
        tag::UTC_TIME | tag::GENERALIZED_TIME => {
            let ok = if t == tag::UTC_TIME {
                gotime::valid_utc_time(inner)
            } else {
                valid_asn1_generalized_time(inner)
            };
            if ok {
                Ok(())
            } else {
                Err(Asn1Error::Other("asn1: invalid time".into()))
            }
        }
        tag::PRINTABLE_STRING
        | tag::NUMERIC_STRING
        | tag::IA5_STRING
        | tag::T61_STRING
        | tag::UTF8_STRING
        | tag::BMP_STRING => parse_string(t, inner),
        _ => Ok(()),
    }
}

fn parse_string(t: u8, inner: &[u8]) -> Result<(), Asn1Error> {
    go_asn1_string(t, inner)
        .map(drop)
        .ok_or_else(|| Asn1Error::Other(format!("asn1: invalid string of type {t}")))
}

fn parse_bool(b: &[u8]) -> Result<bool, Asn1Error> {
    match b {
        [0x00] => Ok(false),
        [0xff] => Ok(true),
        _ => Err(syntax("invalid boolean")),
    }
}

/// Go's `checkInteger`.
fn check_integer(b: &[u8]) -> Result<(), Asn1Error> {
    match b {
        [] => Err(structural("empty integer")),
        [0x00, next, ..] if next & 0x80 == 0 => Err(structural("integer not minimally-encoded")),
        [0xff, next, ..] if next & 0x80 != 0 => Err(structural("integer not minimally-encoded")),
        _ => Ok(()),
    }
}

/// Go's `parseInt64`.
fn parse_i64(b: &[u8]) -> Result<i64, Asn1Error> {
    check_integer(b)?;
    if b.len() > 8 {
        return Err(structural("integer too large"));
    }
    let negative = b[0] & 0x80 != 0;
    Ok(b.iter().fold(if negative { -1i64 } else { 0 }, |v, &x| {
        (v << 8) | i64::from(x)
    }))
}

fn parse_bit_string(b: &[u8]) -> Result<(u8, &[u8]), Asn1Error> {
    let Some((&padding, bytes)) = b.split_first() else {
        return Err(syntax("zero length BIT STRING"));
    };
    let bad_last = bytes
        .last()
        .is_some_and(|&last| padding <= 7 && last & ((1u8 << padding) - 1) != 0);
    if padding > 7 || (bytes.is_empty() && padding > 0) || bad_last {
        return Err(syntax("invalid padding bits in BIT STRING"));
    }
    Ok((padding, bytes))
}

/// Go's `parseObjectIdentifier` (validation only).
fn parse_oid(b: &[u8]) -> Result<(), Asn1Error> {
    if b.is_empty() {
        return Err(syntax("zero length OBJECT IDENTIFIER"));
    }
    let mut offset = 0;
    while offset < b.len() {
        offset = base128(b, offset)?.1;
    }
    Ok(())
}

/// Go's `parseGeneralizedTime` (layout `20060102150405.999999999Z0700`,
/// round trip required): the `cryptobyte` rule plus an optional fraction
/// that `Format` would print back — 1 to 9 digits, no trailing zero.
fn valid_asn1_generalized_time(s: &[u8]) -> bool {
    if s.get(14) != Some(&b'.') {
        return gotime::valid_generalized_time(s);
    }
    let digits = s[15..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=9).contains(&digits) || s[14 + digits] == b'0' {
        return false;
    }
    let mut rest = s[..14].to_vec();
    rest.extend_from_slice(&s[15 + digits..]);
    gotime::valid_generalized_time(&rest)
}

/// `asn1.Marshal` of a value of type `ty` with field parameters `params`.
pub fn marshal(val: &Val<'_>, ty: &Ty, params: &Params) -> Result<Vec<u8>, Asn1Error> {
    let mut out = Vec::new();
    make_field(val, ty, params, &mut out)?;
    Ok(out)
}

/// Go's `reflect.DeepEqual(v, zero)` for the values parsing produces.
fn is_zero(val: &Val<'_>) -> bool {
    match val {
        Val::Zero => true,
        Val::Int(i) => *i == 0,
        Val::Bool(b) => !b,
        Val::Struct { raw, fields } => raw.is_none() && fields.iter().all(is_zero),
        // Parsed slices, byte slices, OIDs, raw values and big integers are
        // never nil; times, strings and interfaces are never marshalled.
        _ => false,
    }
}

/// Go's `makeField`, appending the encoding to `out`.
fn make_field(val: &Val<'_>, ty: &Ty, params: &Params, out: &mut Vec<u8>) -> Result<(), Asn1Error> {
    if params.optional {
        // Go compares with the default only for integer kinds, and with
        // the zero value only when there is no default.
        let omit = match params.default {
            Some(d) => matches!((ty, val), (Ty::Int, Val::Int(i)) if *i == d),
            None => is_zero(val),
        };
        if omit {
            return Ok(());
        }
    }
    if let Val::Raw(raw) = val {
        out.extend_from_slice(raw.full);
        return Ok(());
    }
    let (match_any, mut t, compound) = universal_type(ty);
    if match_any {
        return Err(structural("unknown Go type"));
    }
    if params.set {
        if t != u32::from(tag::SEQUENCE & 0x1f) {
            return Err(structural("non sequence tagged as set"));
        }
        t = u32::from(tag::SET & 0x1f);
    }
    let body = make_body(val, ty, params)?;
    match params.tag {
        Some(n) if params.explicit => {
            let mut inner = Vec::with_capacity(body.len() + 6);
            append_header(&mut inner, CLASS_UNIVERSAL, t, body.len(), compound);
            inner.extend_from_slice(&body);
            append_header(out, CLASS_CONTEXT, n, inner.len(), true);
            out.extend_from_slice(&inner);
        }
        Some(n) => {
            append_header(out, CLASS_CONTEXT, n, body.len(), compound);
            out.extend_from_slice(&body);
        }
        None => {
            append_header(out, CLASS_UNIVERSAL, t, body.len(), compound);
            out.extend_from_slice(&body);
        }
    }
    Ok(())
}

/// Go's `makeBody`.
fn make_body(val: &Val<'_>, ty: &Ty, params: &Params) -> Result<Vec<u8>, Asn1Error> {
    let unsupported = || Asn1Error::Other(format!("asn1: cannot re-encode {ty:?} from {val:?}"));
    Ok(match (ty, val) {
        (Ty::Int, Val::Int(i)) => encode_i64(*i),
        (Ty::BigInt, Val::BigInt(b)) | (Ty::Oid, Val::Oid(b)) | (Ty::Bytes, Val::Bytes(b)) => {
            b.to_vec()
        }
        (Ty::Bool, Val::Bool(b)) => vec![if *b { 0xff } else { 0x00 }],
        (Ty::BitString, Val::BitString { padding, bytes }) => {
            let mut v = Vec::with_capacity(bytes.len() + 1);
            v.push(*padding);
            v.extend_from_slice(bytes);
            v
        }
        (Ty::Struct(_), Val::Struct { raw: Some(raw), .. }) => strip_header(raw).to_vec(),
        (Ty::Struct(s), Val::Struct { raw: None, fields }) => {
            let mut v = Vec::new();
            for (f, fv) in s.fields.iter().zip(fields) {
                make_field(fv, &f.ty, &f.params, &mut v)?;
            }
            v
        }
        (Ty::Slice { elem, .. }, Val::Slice(items)) => {
            let mut encodings = Vec::with_capacity(items.len());
            for item in items {
                encodings.push(marshal(item, elem, &Params::NONE)?);
            }
            if params.set && encodings.len() > 1 {
                encodings.sort_by(|a, b| compare_bytes(a, b));
            }
            encodings.concat()
        }
        _ => return Err(unsupported()),
    })
}

/// Go's `bytes.Compare` (lexicographic, shorter first on a common prefix).
fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

/// Go's `stripTagAndLength`: the contents of a raw element (or the input
/// itself if its header does not parse).
fn strip_header(raw: &[u8]) -> &[u8] {
    match parse_header(raw, 0) {
        Ok((_, offset)) => &raw[offset..],
        Err(_) => raw,
    }
}

/// Go's `int64Encoder`: minimal two's complement.
fn encode_i64(i: i64) -> Vec<u8> {
    let bytes = i.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// Go's `appendTagAndLength`.
fn append_header(out: &mut Vec<u8>, class: u8, t: u32, length: usize, compound: bool) {
    let mut first = class << 6;
    if compound {
        first |= 0x20;
    }
    if t >= 31 {
        out.push(first | 0x1f);
        let groups = (0..5).rev().skip_while(|i| t >> (7 * i) == 0 && *i > 0);
        let groups: Vec<u32> = groups.collect();
        for (n, i) in groups.iter().enumerate() {
            let mut o = ((t >> (7 * i)) & 0x7f) as u8;
            if n + 1 < groups.len() {
                o |= 0x80;
            }
            out.push(o);
        }
    } else {
        out.push(first | t as u8);
    }
    if length >= 128 {
        let len_bytes = length.to_be_bytes();
        let skip = len_bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (len_bytes.len() - skip) as u8);
        out.extend_from_slice(&len_bytes[skip..]);
    } else {
        out.push(length as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ALG: Struct = Struct {
        raw_content: false,
        fields: &[Field::new(Ty::Oid), Field::new(Ty::Raw).optional()],
    };
    static ALGS: Ty = Ty::Struct(&ALG);

    #[test]
    fn headers_follow_go() {
        assert!(matches!(
            parse_header(&[0x30, 0x80], 0),
            Err(Asn1Error::Syntax(_))
        ));
        assert!(matches!(
            parse_header(&[0x30, 0x81, 0x05], 0),
            Err(Asn1Error::Structural(_))
        ));
        assert!(matches!(
            parse_header(&[0x30, 0x82, 0x00, 0x80], 0),
            Err(Asn1Error::Structural(_))
        ));
        assert!(matches!(
            parse_header(&[0x1f, 0x05, 0x00], 0),
            Err(Asn1Error::Syntax(_))
        ));
        let (h, off) = parse_header(&[0xbf, 0x20, 0x01], 0).unwrap();
        assert_eq!(
            (h.class, h.tag, h.compound, h.length, off),
            (2, 0x20, true, 1, 3)
        );
        let mut out = Vec::new();
        append_header(&mut out, 2, 0x20, 1, true);
        assert_eq!(out, [0xbf, 0x20, 0x01]);
        let mut out = Vec::new();
        append_header(&mut out, 0, 16, 300, true);
        assert_eq!(out, [0x30, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn integers_round_trip_minimally() {
        for i in [
            0i64,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            255,
            256,
            i64::MAX,
            i64::MIN,
        ] {
            let enc = encode_i64(i);
            assert_eq!(parse_i64(&enc).unwrap(), i, "{i}");
        }
        assert_eq!(encode_i64(128), [0x00, 0x80]);
        assert_eq!(encode_i64(-129), [0xff, 0x7f]);
        assert!(parse_i64(&[0x00, 0x01]).is_err());
        assert!(parse_i64(&[0x01; 9]).is_err());
    }

    #[test]
    fn optional_raw_parameters_and_trailing_elements() {
        // SEQUENCE { OID 1.2.3, NULL, INTEGER 5 }: Go ignores the INTEGER,
        // and the NULL parameters are copied as they are.
        let der = [
            0x30, 0x09, 0x06, 0x02, 0x2a, 0x03, 0x05, 0x00, 0x02, 0x01, 0x05,
        ];
        let (v, rest) = unmarshal(&der, &ALGS).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            marshal(&v, &ALGS, &Params::NONE).unwrap(),
            [0x30, 0x06, 0x06, 0x02, 0x2a, 0x03, 0x05, 0x00]
        );
        // A length beyond the input: data truncated.
        let mut long = der.to_vec();
        long[1] = 0x0a;
        assert!(matches!(unmarshal(&long, &ALGS), Err(Asn1Error::Syntax(_))));
        // Without parameters the optional field is absent and left out.
        let bare = [0x30, 0x04, 0x06, 0x02, 0x2a, 0x03];
        let (v3, _) = unmarshal(&bare, &ALGS).unwrap();
        assert_eq!(marshal(&v3, &ALGS, &Params::NONE).unwrap(), bare);
    }

    #[test]
    fn set_slices_are_sorted_on_marshal() {
        static SET: Ty = Ty::Slice {
            elem: &ALGS,
            set_named: false,
        };
        let a = [0x30, 0x04, 0x06, 0x02, 0x2a, 0x04];
        let b = [0x30, 0x04, 0x06, 0x02, 0x2a, 0x03];
        let mut der = vec![0x31, 0x0c];
        der.extend_from_slice(&a);
        der.extend_from_slice(&b);
        let set = Params {
            set: true,
            ..Params::NONE
        };
        let (v, _) = parse_field(&SET, &der, 0, &set).unwrap();
        let mut want = vec![0x31, 0x0c];
        want.extend_from_slice(&b);
        want.extend_from_slice(&a);
        assert_eq!(marshal(&v, &SET, &set).unwrap(), want);
        // Not a set: order kept.
        let mut seq = der.clone();
        seq[0] = 0x30;
        let (v, _) = unmarshal(&seq, &SET).unwrap();
        assert_eq!(marshal(&v, &SET, &Params::NONE).unwrap(), seq);
    }

    #[test]
    fn generalized_time_fractions() {
        assert!(valid_asn1_generalized_time(b"20240102030405Z"));
        assert!(valid_asn1_generalized_time(b"20240102030405.5Z"));
        assert!(valid_asn1_generalized_time(b"20240102030405.123456789Z"));
        assert!(!valid_asn1_generalized_time(b"20240102030405.50Z"));
        assert!(!valid_asn1_generalized_time(b"20240102030405.1234567891Z"));
        assert!(!valid_asn1_generalized_time(b"20240102030405.Z"));
        assert!(!valid_asn1_generalized_time(b"20240102030405,5Z"));
        assert!(valid_asn1_generalized_time(b"20240102030405.5+0100"));
    }

    #[test]
    fn explicit_tag_at_end_of_input_is_an_error_even_when_optional() {
        static S: Struct = Struct {
            raw_content: false,
            fields: &[
                Field::new(Ty::Int),
                Field::new(Ty::Int).optional().explicit().tag(0),
            ],
        };
        // SEQUENCE { INTEGER 1, NULL }: the NULL header ends the input.
        let der = [0x30, 0x05, 0x02, 0x01, 0x01, 0x05, 0x00];
        assert!(unmarshal(&der, &Ty::Struct(&S)).is_err());
        // SEQUENCE { INTEGER 1 }: absent, fine.
        let der = [0x30, 0x03, 0x02, 0x01, 0x01];
        assert!(unmarshal(&der, &Ty::Struct(&S)).is_ok());
    }
}
