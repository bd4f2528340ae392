//! DER readers with Go's acceptance rules.
//!
//! Which certificates and keys Rekor accepts is decided by two Go readers:
//! `golang.org/x/crypto/cryptobyte` (certificate parsing in `crypto/x509`)
//! and `encoding/asn1` (`ParsePKIXPublicKey`, Sigstore's OtherName parser).
//! They differ in small ways (cryptobyte refuses high tag numbers, asn1
//! accepts them; asn1 ignores trailing elements of a SEQUENCE), and a Rust
//! DER crate differs again (e.g. it rejects an explicit `critical FALSE` that
//! Go accepts). So both are ported here, each only as far as Rekor uses it.

/// Universal and context tags as single identifier bytes (cryptobyte style).
pub mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const NUMERIC_STRING: u8 = 0x12;
    pub const PRINTABLE_STRING: u8 = 0x13;
    pub const T61_STRING: u8 = 0x14;
    pub const IA5_STRING: u8 = 0x16;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const GENERAL_STRING: u8 = 0x1b;
    pub const BMP_STRING: u8 = 0x1e;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;

    /// `[n]` primitive, context-specific.
    pub const fn context(n: u8) -> u8 {
        0x80 | n
    }

    /// `[n]` constructed, context-specific.
    pub const fn context_constructed(n: u8) -> u8 {
        0xa0 | n
    }
}

/// A cursor over DER input with `cryptobyte.String` semantics. Every method
/// either consumes one element and returns `Some`, or returns `None` (the
/// cursor is then in an unspecified position; callers give up).
#[derive(Clone, Copy, Debug)]
pub struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    pub fn new(bytes: &'a [u8]) -> Der<'a> {
        Der(bytes)
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `readASN1`: tag byte, element (header included), header length.
    fn read_raw(&mut self) -> Option<(u8, &'a [u8], usize)> {
        let s = self.0;
        if s.len() < 2 {
            return None;
        }
        let (tag_byte, len_byte) = (s[0], s[1]);
        if tag_byte & 0x1f == 0x1f {
            return None; // cryptobyte refuses high tag numbers
        }
        let (length, header) = if len_byte & 0x80 == 0 {
            (usize::from(len_byte), 2usize)
        } else {
            let len_len = usize::from(len_byte & 0x7f);
            if len_len == 0 || len_len > 4 || s.len() < 2 + len_len {
                return None;
            }
            let len32 = s[2..2 + len_len]
                .iter()
                .fold(0u32, |n, &b| (n << 8) | u32::from(b));
            if len32 < 128 || len32 >> ((len_len - 1) * 8) == 0 {
                return None; // not minimal
            }
            (usize::try_from(len32).ok()?, 2 + len_len)
        };
        let total = header.checked_add(length)?;
        if s.len() < total {
            return None;
        }
        self.0 = &s[total..];
        Some((tag_byte, &s[..total], header))
    }

    /// `ReadAnyASN1`: any element, returning its tag and contents.
    pub fn read_any(&mut self) -> Option<(u8, Der<'a>)> {
        let (t, element, header) = self.read_raw()?;
        Some((t, Der(&element[header..])))
    }

    /// `ReadAnyASN1Element`: any element, returning its tag and full bytes.
    pub fn read_any_element(&mut self) -> Option<(u8, &'a [u8])> {
        let (t, element, _) = self.read_raw()?;
        Some((t, element))
    }

    /// `ReadASN1`: an element with tag `want`, returning its contents.
    pub fn read(&mut self, want: u8) -> Option<Der<'a>> {
        match self.read_any()? {
            (t, inner) if t == want => Some(inner),
            _ => None,
        }
    }

    /// `ReadASN1Element`: an element with tag `want`, header included.
    pub fn read_element(&mut self, want: u8) -> Option<&'a [u8]> {
        match self.read_any_element()? {
            (t, element) if t == want => Some(element),
            _ => None,
        }
    }

    /// `PeekASN1Tag`.
    pub fn peek(&self, want: u8) -> bool {
        self.0.first() == Some(&want)
    }

    /// `ReadOptionalASN1`: `Some(None)` when absent, `None` when malformed.
    pub fn read_optional(&mut self, want: u8) -> Option<Option<Der<'a>>> {
        if self.peek(want) {
            self.read(want).map(Some)
        } else {
            Some(None)
        }
    }

    /// `SkipOptionalASN1`.
    pub fn skip_optional(&mut self, want: u8) -> Option<()> {
        self.read_optional(want).map(|_| ())
    }

    /// `ReadASN1Boolean`: one byte, 0x00 or 0xff.
    pub fn read_bool(&mut self) -> Option<bool> {
        match self.read(tag::BOOLEAN)?.0 {
            [0x00] => Some(false),
            [0xff] => Some(true),
            _ => None,
        }
    }

    /// `ReadASN1Integer` into a `*big.Int`: the minimal two's-complement
    /// contents (validated, not interpreted).
    pub fn read_big_int(&mut self) -> Option<Integer<'a>> {
        self.read_integer_with_tag(tag::INTEGER)
    }

    fn read_integer_with_tag(&mut self, want: u8) -> Option<Integer<'a>> {
        let contents = self.read(want)?.0;
        minimal_integer(contents).then_some(Integer(contents))
    }

    /// `ReadASN1Integer` into an `int`/`int64`.
    pub fn read_i64(&mut self) -> Option<i64> {
        self.read_big_int()?.to_i64()
    }

    /// `ReadASN1Int64WithTag`.
    pub fn read_i64_with_tag(&mut self, want: u8) -> Option<i64> {
        self.read_integer_with_tag(want)?.to_i64()
    }

    /// `ReadASN1Integer` into a `uint` (64-bit).
    pub fn read_u64(&mut self) -> Option<u64> {
        self.read_big_int()?.to_u64()
    }

    /// `ReadASN1ObjectIdentifier`.
    pub fn read_oid(&mut self) -> Option<Oid<'a>> {
        Oid::parse(self.read(tag::OID)?.0)
    }

    /// `ReadASN1BitString`.
    pub fn read_bit_string(&mut self) -> Option<BitString<'a>> {
        BitString::parse(self.read(tag::BIT_STRING)?.0)
    }
}

/// Go's base-128 integer (OID components, high tag numbers; cryptobyte and
/// `encoding/asn1` agree): at most 5 bytes, no leading 0x80, below 2^31,
/// not truncated. Advances `rest` past it.
fn base128_int(rest: &mut &[u8]) -> Option<u32> {
    let mut value: u32 = 0;
    for i in 0..5 {
        let (&b, tail) = rest.split_first()?;
        *rest = tail;
        if i == 0 && b == 0x80 {
            return None;
        }
        // Four 7-bit groups fit in 28 bits; the fifth must keep it < 2^31.
        if i == 4 && value >= 1 << 24 {
            return None;
        }
        value = (value << 7) | u32::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Go's `checkASN1Integer`: non-empty and minimally encoded.
fn minimal_integer(b: &[u8]) -> bool {
    match b {
        [] => false,
        [_] => true,
        [0x00, next, ..] => next & 0x80 != 0,
        [0xff, next, ..] => next & 0x80 == 0,
        _ => true,
    }
}

/// A validated DER INTEGER (minimal two's complement, big-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Integer<'a>(&'a [u8]);

impl<'a> Integer<'a> {
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }

    pub fn is_negative(&self) -> bool {
        self.0[0] & 0x80 != 0
    }

    /// Strictly greater than zero.
    pub fn is_positive(&self) -> bool {
        !self.is_negative() && self.0.iter().any(|&b| b != 0)
    }

    fn to_i64(self) -> Option<i64> {
        if self.0.len() > 8 {
            return None;
        }
        let mut v: i64 = if self.is_negative() { -1 } else { 0 };
        for &b in self.0 {
            v = (v << 8) | i64::from(b);
        }
        Some(v)
    }

    fn to_u64(self) -> Option<u64> {
        if self.is_negative() || self.0.len() > 9 || (self.0.len() == 9 && self.0[0] != 0) {
            return None;
        }
        Some(self.0.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
    }
}

/// A validated OBJECT IDENTIFIER, kept as its content bytes. Go compares
/// parsed components; for a valid (minimal) encoding that is the same as
/// comparing content bytes, which is what `==` does here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Oid<'a>(&'a [u8]);

impl<'a> Oid<'a> {
    /// Go's OID rules (both readers agree): non-empty, base-128 components of
    /// at most 5 bytes, no leading 0x80, each below 2^31, not truncated.
    pub fn parse(contents: &'a [u8]) -> Option<Oid<'a>> {
        if contents.is_empty() {
            return None;
        }
        let mut rest = contents;
        while !rest.is_empty() {
            base128_int(&mut rest)?;
        }
        Some(Oid(contents))
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }

    /// `ext.Id` is `2.5.29.n` (`len(e.Id) == 4 && 2,5,29`): the `n`.
    pub fn id_ce_arc(&self) -> Option<u32> {
        match self.0 {
            [0x55, 0x1d, rest @ ..] => single_component(rest),
            _ => None,
        }
    }
}

fn single_component(b: &[u8]) -> Option<u32> {
    let (last, init) = b.split_last()?;
    if last & 0x80 != 0 || init.iter().any(|b| b & 0x80 == 0) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, &x| (n << 7) | u32::from(x & 0x7f)))
}

/// A validated BIT STRING.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitString<'a> {
    pub bytes: &'a [u8],
    pub padding: u8,
}

impl<'a> BitString<'a> {
    /// Go's BIT STRING rules: padding ≤ 7, no padding on an empty string,
    /// unused bits zero.
    pub fn parse(contents: &'a [u8]) -> Option<BitString<'a>> {
        let (&padding, bytes) = contents.split_first()?;
        if padding > 7 {
            return None;
        }
        match bytes.last() {
            None if padding != 0 => return None,
            Some(&last) if last & ((1u8 << padding) - 1) != 0 => return None,
            _ => {}
        }
        Some(BitString { bytes, padding })
    }

    /// Go `BitString.RightAlign`.
    pub fn right_align(&self) -> Vec<u8> {
        let shift = u32::from(self.padding);
        if shift == 0 || self.bytes.is_empty() {
            return self.bytes.to_vec();
        }
        let mut out = Vec::with_capacity(self.bytes.len());
        out.push(self.bytes[0] >> shift);
        out.extend(
            self.bytes
                .windows(2)
                .map(|w| (w[0] << (8 - shift)) | (w[1] >> shift)),
        );
        out
    }
}

/// The header of one element as Go `encoding/asn1` `parseTagAndLength`
/// reads it: class, constructed bit, tag number, declared length, and the
/// header size. The length is not checked against the input here (Go does
/// that separately, and not at all for an EXPLICIT wrapper).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asn1Header {
    pub class: u8,
    pub constructed: bool,
    pub tag: u32,
    pub length: usize,
    pub header_len: usize,
}

/// Go `encoding/asn1` `parseTagAndLength`: high tag numbers accepted (if
/// minimal), lengths must be minimal DER.
pub fn asn1_header(bytes: &[u8]) -> Option<Asn1Header> {
    let (&first, mut rest) = bytes.split_first()?;
    let class = first >> 6;
    let constructed = first & 0x20 != 0;
    let mut tag_number = u32::from(first & 0x1f);
    if tag_number == 0x1f {
        tag_number = base128_int(&mut rest)?;
        if tag_number < 0x1f {
            return None; // not minimal
        }
    }
    let (&len_byte, mut rest) = rest.split_first()?;
    let length = if len_byte & 0x80 == 0 {
        usize::from(len_byte)
    } else {
        let num_bytes = usize::from(len_byte & 0x7f);
        if num_bytes == 0 {
            return None; // indefinite length
        }
        let mut length: usize = 0;
        for _ in 0..num_bytes {
            let (&b, tail) = rest.split_first()?;
            rest = tail;
            if length >= 1 << 23 {
                return None;
            }
            length = (length << 8) | usize::from(b);
            if length == 0 {
                return None; // leading zero
            }
        }
        if length < 0x80 {
            return None;
        }
        length
    };
    Some(Asn1Header {
        class,
        constructed,
        tag: tag_number,
        length,
        header_len: bytes.len() - rest.len(),
    })
}

/// One complete element as Go `encoding/asn1` sees it.
#[derive(Clone, Copy, Debug)]
pub struct Asn1Element<'a> {
    pub header: Asn1Header,
    /// Contents (after the header).
    pub contents: &'a [u8],
    /// Header and contents.
    pub full: &'a [u8],
}

/// [`asn1_header`] plus Go's "data truncated" bounds check: the element at
/// the start of `bytes` and the bytes after it.
pub fn asn1_element(bytes: &[u8]) -> Option<(Asn1Element<'_>, &[u8])> {
    let header = asn1_header(bytes)?;
    let end = header.header_len.checked_add(header.length)?;
    if bytes.len() < end {
        return None;
    }
    Some((
        Asn1Element {
            header,
            contents: &bytes[header.header_len..end],
            full: &bytes[..end],
        },
        &bytes[end..],
    ))
}

/// Go's decoding of the ASN.1 string types into a (UTF-8) Go string, the
/// rules shared by `crypto/x509`'s `parseASN1String` and `encoding/asn1`.
/// `tag` is the universal tag number. T61 and GeneralString are read as
/// Latin-1; PrintableString allows `*` and `&` as Go does.
pub fn go_asn1_string(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        tag::T61_STRING | tag::GENERAL_STRING => {
            Some(value.iter().map(|&b| char::from(b)).collect())
        }
        tag::PRINTABLE_STRING => value
            .iter()
            .all(|&b| {
                b.is_ascii_alphanumeric()
                    || (b'\''..=b')').contains(&b)
                    || (b'+'..=b'/').contains(&b)
                    || matches!(b, b' ' | b':' | b'=' | b'?' | b'*' | b'&')
            })
            .then(|| value.iter().map(|&b| char::from(b)).collect()),
        tag::UTF8_STRING => std::str::from_utf8(value).ok().map(str::to_owned),
        tag::BMP_STRING => {
            if value.len() % 2 != 0 {
                return None;
            }
            let value = match value {
                [head @ .., 0, 0] => head,
                _ => value,
            };
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            if units.iter().any(|&u| {
                u == 0xfffe
                    || u == 0xffff
                    || (0xfdd0..=0xfdef).contains(&u)
                    || (0xd800..=0xdfff).contains(&u)
            }) {
                return None;
            }
            Some(
                char::decode_utf16(units)
                    .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect(),
            )
        }
        tag::IA5_STRING => value
            .is_ascii()
            .then(|| value.iter().map(|&b| char::from(b)).collect()),
        tag::NUMERIC_STRING => value
            .iter()
            .all(|&b| b.is_ascii_digit() || b == b' ')
            .then(|| value.iter().map(|&b| char::from(b)).collect()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cryptobyte_lengths_must_be_minimal() {
        assert!(Der::new(&[0x04, 0x01, 0xaa])
            .read(tag::OCTET_STRING)
            .is_some());
        // Long form for a short length.
        assert!(Der::new(&[0x04, 0x81, 0x01, 0xaa])
            .read(tag::OCTET_STRING)
            .is_none());
        // Leading zero length byte.
        let mut v = vec![0x04, 0x82, 0x00, 0x80];
        v.extend(std::iter::repeat_n(0u8, 0x80));
        assert!(Der::new(&v).read(tag::OCTET_STRING).is_none());
        // Indefinite length, high tag number, truncated.
        assert!(Der::new(&[0x30, 0x80, 0, 0]).read(tag::SEQUENCE).is_none());
        assert!(Der::new(&[0x1f, 0x22, 0x00]).read_any().is_none());
        assert!(Der::new(&[0x04, 0x05, 0xaa])
            .read(tag::OCTET_STRING)
            .is_none());
    }

    #[test]
    fn integers_booleans_oids_bitstrings() {
        assert_eq!(Der::new(&[0x02, 0x01, 0x05]).read_i64(), Some(5));
        assert_eq!(Der::new(&[0x02, 0x01, 0xff]).read_i64(), Some(-1));
        assert_eq!(Der::new(&[0x02, 0x02, 0x00, 0x7f]).read_i64(), None);
        assert_eq!(Der::new(&[0x02, 0x02, 0x00, 0x80]).read_u64(), Some(128));
        assert_eq!(Der::new(&[0x02, 0x00]).read_i64(), None);
        assert_eq!(Der::new(&[0x01, 0x01, 0xff]).read_bool(), Some(true));
        assert_eq!(Der::new(&[0x01, 0x01, 0x01]).read_bool(), None);
        // 2.5.29.17
        let oid = Der::new(&[0x06, 0x03, 0x55, 0x1d, 0x11])
            .read_oid()
            .unwrap();
        assert_eq!(oid.id_ce_arc(), Some(17));
        assert!(Oid::parse(&[0x80, 0x01]).is_none());
        assert!(Oid::parse(&[0x2a, 0x86]).is_none());
        assert!(Oid::parse(&[0x8f, 0xff, 0xff, 0xff, 0x7f]).is_none()); // ≥ 2^31
        assert!(Oid::parse(&[0x87, 0xff, 0xff, 0xff, 0x7f]).is_some());
        assert!(BitString::parse(&[0x00]).is_some());
        assert!(BitString::parse(&[0x01]).is_none());
        assert!(BitString::parse(&[0x03, 0xf9]).is_none());
        let bs = BitString::parse(&[0x04, 0xab, 0xc0]).unwrap();
        assert_eq!(bs.right_align(), vec![0x0a, 0xbc]);
    }

    #[test]
    fn encoding_asn1_accepts_high_tags_but_not_non_minimal() {
        let (e, rest) = asn1_element(&[0x9f, 0x20, 0x01, 0xaa, 0xbb]).unwrap();
        assert_eq!(
            (e.header.class, e.header.tag, e.contents, rest),
            (2, 0x20, &[0xaa][..], &[0xbb][..])
        );
        assert!(asn1_element(&[0x9f, 0x10, 0x00]).is_none());
        assert!(asn1_element(&[0x30, 0x80]).is_none());
        assert!(asn1_element(&[0x04, 0x81, 0x05, 0, 0, 0, 0, 0]).is_none());
        // Header alone does not bound-check; the element does.
        assert!(asn1_header(&[0x04, 0x05]).is_some());
        assert!(asn1_element(&[0x04, 0x05]).is_none());
    }

    #[test]
    fn asn1_strings_follow_go() {
        assert_eq!(
            go_asn1_string(tag::UTF8_STRING, "é".as_bytes()).unwrap(),
            "é"
        );
        assert!(go_asn1_string(tag::UTF8_STRING, b"\xff").is_none());
        assert_eq!(go_asn1_string(tag::T61_STRING, b"\xe9").unwrap(), "é");
        assert_eq!(
            go_asn1_string(tag::PRINTABLE_STRING, b"a*b&c").unwrap(),
            "a*b&c"
        );
        assert!(go_asn1_string(tag::PRINTABLE_STRING, b"a@b").is_none());
        assert!(go_asn1_string(tag::IA5_STRING, b"\x80").is_none());
        assert_eq!(
            go_asn1_string(tag::BMP_STRING, &[0, 0x41, 0, 0]).unwrap(),
            "A"
        );
        assert!(go_asn1_string(tag::BMP_STRING, &[0xd8, 0x00]).is_none());
        assert!(go_asn1_string(tag::NUMERIC_STRING, b"12 a").is_none());
        assert!(go_asn1_string(tag::OCTET_STRING, b"x").is_none());
    }
}
