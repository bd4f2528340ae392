//! OpenPGP packet framing as go-crypto's `packet.Read` sees it: headers,
//! the three length forms, and reads that stop where Go's `io.Reader`s stop.
//!
//! Go parses a packet from a reader limited to the packet body but does not
//! skip what the parser left unread: trailing bytes of a packet become the
//! next packet's header. A read that finds nothing at the end of a packet
//! body is `io.EOF` (which ends the whole keyring), one that finds part of
//! what it wanted is `io.ErrUnexpectedEOF`. Both are kept apart here because
//! they lead to different outcomes upstream.

use std::fmt;

/// How a read stopped short, in Go `io` terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Short {
    /// `io.EOF`: nothing at all was available.
    Eof,
    /// `io.ErrUnexpectedEOF`: the data ended inside what was asked for.
    Unexpected,
}

/// go-crypto's error classes, which decide whether a packet, an entity or
/// the whole key is dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// `io.EOF` reached the packet reader: the keyring ends here.
    Eof,
    /// `errors.StructuralError`: the entity is skipped.
    Structural(String),
    /// `errors.UnsupportedError`: the packet (or entity) is skipped.
    Unsupported(String),
    /// `errors.UnknownPacketTypeError`: the packet is skipped.
    UnknownPacket(u8),
    /// Any other error (`io.ErrUnexpectedEOF`, a critical unknown packet,
    /// a point that is not on its curve): the whole key fails.
    Fatal(String),
}

impl Error {
    pub fn structural(s: impl Into<String>) -> Error {
        Error::Structural(s.into())
    }

    pub fn unsupported(s: impl Into<String>) -> Error {
        Error::Unsupported(s.into())
    }
}

impl From<Short> for Error {
    fn from(s: Short) -> Error {
        match s {
            Short::Eof => Error::Eof,
            Short::Unexpected => Error::Fatal("unexpected EOF".into()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Eof => f.write_str("EOF"),
            Error::Structural(s) => write!(f, "openpgp: invalid data: {s}"),
            Error::Unsupported(s) => write!(f, "openpgp: unsupported feature: {s}"),
            Error::UnknownPacket(t) => write!(f, "openpgp: unknown packet type: {t}"),
            Error::Fatal(s) => f.write_str(s),
        }
    }
}

/// A byte source with Go's `io.ReadFull` / `io.ReadAll` outcomes.
pub trait Source {
    /// `io.ReadFull` of `n` bytes.
    fn read_full(&mut self, n: usize) -> Result<Vec<u8>, Short>;

    /// `io.ReadAll`: everything up to EOF; a truncated body is an error.
    fn read_all(&mut self) -> Result<Vec<u8>, Short>;

    /// go-crypto's `readFull`: like `read_full`, but reading nothing is
    /// also an unexpected EOF.
    fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, Error> {
        self.read_full(n)
            .map_err(|_| Error::from(Short::Unexpected))
    }
}

/// A `bytes.Buffer`: what go-crypto wraps around an embedded signature.
pub struct SliceSource<'a>(pub &'a [u8]);

impl Source for SliceSource<'_> {
    fn read_full(&mut self, n: usize) -> Result<Vec<u8>, Short> {
        if n == 0 {
            return Ok(Vec::new());
        }
        if self.0.is_empty() {
            return Err(Short::Eof);
        }
        if self.0.len() < n {
            self.0 = &[];
            return Err(Short::Unexpected);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head.to_vec())
    }

    fn read_all(&mut self) -> Result<Vec<u8>, Short> {
        let all = self.0.to_vec();
        self.0 = &[];
        Ok(all)
    }
}

/// The underlying packet stream with a cursor.
pub struct Stream<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Stream<'a> {
    pub fn new(data: &'a [u8]) -> Stream<'a> {
        Stream { data, pos: 0 }
    }

    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.left());
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        s
    }

    /// go-crypto `readFull` on the raw stream.
    fn read_exact(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.left() < n {
            self.pos = self.data.len();
            return Err(Short::Unexpected.into());
        }
        Ok(self.take(n))
    }
}

/// How the body of one packet is delimited.
enum Limit {
    /// A known length (`spanReader`).
    Span(usize),
    /// Partial body lengths (`partialLengthReader`).
    Partial { remaining: usize, partial: bool },
    /// Old-format indeterminate length: the rest of the stream.
    Rest,
}

/// The body of one packet, read through the shared stream.
pub struct Contents<'s, 'a> {
    stream: &'s mut Stream<'a>,
    limit: Limit,
}

impl Contents<'_, '_> {
    /// Reads up to `n` bytes; says whether the packet ended (`Eof`) or the
    /// stream was cut short (`Unexpected`) when fewer came back.
    fn read_some(&mut self, n: usize, out: &mut Vec<u8>) -> Option<Short> {
        let mut got = 0;
        while got < n {
            match &mut self.limit {
                Limit::Span(remaining) => {
                    if *remaining == 0 {
                        return Some(Short::Eof);
                    }
                    if self.stream.left() == 0 {
                        return Some(Short::Unexpected);
                    }
                    let chunk = self.stream.take((n - got).min(*remaining));
                    *remaining -= chunk.len();
                    got += chunk.len();
                    out.extend_from_slice(chunk);
                }
                Limit::Partial { remaining, partial } => {
                    if *remaining == 0 {
                        if !*partial {
                            return Some(Short::Eof);
                        }
                        match read_length(self.stream) {
                            Ok((len, more)) => {
                                *remaining = len;
                                *partial = more;
                            }
                            Err(_) => return Some(Short::Unexpected),
                        }
                        continue;
                    }
                    if self.stream.left() == 0 {
                        return Some(Short::Unexpected);
                    }
                    let chunk = self.stream.take((n - got).min(*remaining));
                    *remaining -= chunk.len();
                    got += chunk.len();
                    out.extend_from_slice(chunk);
                }
                Limit::Rest => {
                    if self.stream.left() == 0 {
                        return Some(Short::Eof);
                    }
                    let chunk = self.stream.take(n - got);
                    got += chunk.len();
                    out.extend_from_slice(chunk);
                }
            }
        }
        None
    }

    /// go-crypto `consumeAll`: skips the rest of the body, errors ignored.
    pub fn consume_all(&mut self) {
        let mut sink = Vec::new();
        while self.read_some(usize::MAX, &mut sink).is_none() {
            sink.clear();
        }
    }
}

impl Source for Contents<'_, '_> {
    fn read_full(&mut self, n: usize) -> Result<Vec<u8>, Short> {
        let mut out = Vec::with_capacity(n.min(1 << 16));
        match self.read_some(n, &mut out) {
            None => Ok(out),
            Some(Short::Eof) if out.is_empty() => Err(Short::Eof),
            Some(_) => Err(Short::Unexpected),
        }
    }

    fn read_all(&mut self) -> Result<Vec<u8>, Short> {
        let mut out = Vec::new();
        match self.read_some(usize::MAX, &mut out) {
            None | Some(Short::Eof) => Ok(out),
            Some(Short::Unexpected) => Err(Short::Unexpected),
        }
    }
}

/// go-crypto `readLength`: a new-format length; `true` when partial.
fn read_length(stream: &mut Stream<'_>) -> Result<(usize, bool), Error> {
    let b = stream.read_exact(1)?[0];
    Ok(match b {
        0..=191 => (usize::from(b), false),
        192..=223 => {
            let b2 = stream.read_exact(1)?[0];
            ((usize::from(b - 192) << 8) + usize::from(b2) + 192, false)
        }
        224..=254 => (1usize << (b & 0x1f), true),
        255 => {
            let n = stream.read_exact(4)?;
            (u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize, false)
        }
    })
}

/// A parsed packet header: the tag, the length go-crypto reports (`None`
/// for partial and indeterminate lengths) and the body reader.
pub struct Header<'s, 'a> {
    pub tag: u8,
    pub length: Option<usize>,
    pub contents: Contents<'s, 'a>,
}

/// go-crypto `readHeader`.
pub fn read_header<'s, 'a>(stream: &'s mut Stream<'a>) -> Result<Header<'s, 'a>, Error> {
    if stream.left() == 0 {
        return Err(Error::Eof);
    }
    let b = stream.take(1)[0];
    if b & 0x80 == 0 {
        return Err(Error::structural("tag byte does not have MSB set"));
    }
    if b & 0x40 == 0 {
        // Old format.
        let tag = (b & 0x3f) >> 2;
        let length_type = b & 3;
        if length_type == 3 {
            return Ok(Header {
                tag,
                length: None,
                contents: Contents {
                    stream,
                    limit: Limit::Rest,
                },
            });
        }
        let bytes = stream.read_exact(1 << length_type)?;
        let length = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        return Ok(Header {
            tag,
            length: Some(length),
            contents: Contents {
                stream,
                limit: Limit::Span(length),
            },
        });
    }
    let tag = b & 0x3f;
    let (length, partial) = read_length(stream)?;
    if partial {
        Ok(Header {
            tag,
            length: None,
            contents: Contents {
                stream,
                limit: Limit::Partial {
                    remaining: length,
                    partial: true,
                },
            },
        })
    } else {
        Ok(Header {
            tag,
            length: Some(length),
            contents: Contents {
                stream,
                limit: Limit::Span(length),
            },
        })
    }
}

/// go-crypto `serializeHeader`: always a new-format header with the
/// shortest length encoding.
pub fn write_header(out: &mut Vec<u8>, tag: u8, length: usize) {
    out.push(0xc0 | tag);
    if length < 192 {
        out.push(length as u8);
    } else if length < 8384 {
        let l = length - 192;
        out.push(192 + (l >> 8) as u8);
        out.push(l as u8);
    } else {
        out.push(255);
        out.extend_from_slice(&(length as u32).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(bytes: &[u8]) -> (u8, Option<usize>, Result<Vec<u8>, Short>) {
        let mut s = Stream::new(bytes);
        let mut h = read_header(&mut s).unwrap();
        let body = h.contents.read_all();
        (h.tag, h.length, body)
    }

    #[test]
    fn new_format_lengths_round_trip_with_minimal_encoding() {
        for (len, encoded) in [
            (0usize, vec![0x00]),
            (191, vec![0xbf]),
            (192, vec![0xc0, 0x00]),
            (8383, vec![0xdf, 0xff]),
            (8384, vec![0xff, 0x00, 0x00, 0x20, 0xc0]),
            (100_000, vec![0xff, 0x00, 0x01, 0x86, 0xa0]),
        ] {
            let mut out = Vec::new();
            write_header(&mut out, 13, len);
            assert_eq!(out[0], 0xcd);
            assert_eq!(&out[1..], &encoded[..], "length {len}");
            out.extend(std::iter::repeat_n(0x41, len));
            let (tag, length, body) = header_of(&out);
            assert_eq!((tag, length), (13, Some(len)));
            assert_eq!(body.unwrap().len(), len);
        }
    }

    #[test]
    fn old_format_headers() {
        // Tag 6, one-octet length.
        assert_eq!(header_of(&[0x98, 2, 1, 2]).0, 6);
        assert_eq!(header_of(&[0x98, 2, 1, 2]).2.unwrap(), vec![1, 2]);
        // Two-octet length.
        assert_eq!(header_of(&[0x99, 0, 1, 9]).2.unwrap(), vec![9]);
        // Indeterminate: the rest of the stream.
        let (tag, length, body) = header_of(&[0xb7, 1, 2, 3]);
        assert_eq!((tag, length), (13, None));
        assert_eq!(body.unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn partial_lengths_are_joined() {
        // 2 bytes (partial, 1 << 1), then a final chunk of 1.
        let (_, length, body) = header_of(&[0xcd, 0xe1, b'a', b'b', 0x01, b'c']);
        assert_eq!(length, None);
        assert_eq!(body.unwrap(), b"abc");
        // A truncated continuation is an unexpected EOF.
        assert_eq!(
            header_of(&[0xcd, 0xe1, b'a', b'b']).2,
            Err(Short::Unexpected)
        );
    }

    #[test]
    fn reads_stop_like_go_readers() {
        let data = [0xcd, 3, 1, 2, 3, 0xcd];
        let mut s = Stream::new(&data);
        let mut h = read_header(&mut s).unwrap();
        assert_eq!(h.contents.read_full(2), Ok(vec![1, 2]));
        assert_eq!(h.contents.read_full(2), Err(Short::Unexpected));
        assert_eq!(h.contents.read_full(1), Err(Short::Eof));
        assert_eq!(h.contents.read_full(0), Ok(vec![]));
        // The next header is truncated.
        assert!(matches!(read_header(&mut s), Err(Error::Fatal(_))));
        assert_eq!(read_header(&mut s).err(), Some(Error::Eof));
        // A body cut by the end of the stream is unexpected, even at 0 bytes.
        let data = [0xcd, 3];
        let mut s = Stream::new(&data);
        let mut h = read_header(&mut s).unwrap();
        assert_eq!(h.contents.read_full(1), Err(Short::Unexpected));
        assert!(matches!(
            read_header(&mut Stream::new(&[0x41])),
            Err(Error::Structural(_))
        ));
    }

    #[test]
    fn unread_body_bytes_stay_in_the_stream() {
        let data = [0xcd, 2, 1, 2, 0xcd, 0];
        let mut s = Stream::new(&data);
        let mut h = read_header(&mut s).unwrap();
        assert_eq!(h.contents.read_full(1), Ok(vec![1]));
        // The next header starts at the unread byte 0x02: no MSB.
        assert!(matches!(read_header(&mut s), Err(Error::Structural(_))));
        let mut s = Stream::new(&data);
        let mut h = read_header(&mut s).unwrap();
        h.contents.consume_all();
        assert_eq!(read_header(&mut s).unwrap().tag, 13);
    }

    #[test]
    fn slice_source_is_a_bytes_buffer() {
        let mut s = SliceSource(&[1, 2, 3]);
        assert_eq!(s.read_full(2), Ok(vec![1, 2]));
        assert_eq!(s.read_full(2), Err(Short::Unexpected));
        assert_eq!(s.read_full(1), Err(Short::Eof));
        assert_eq!(s.read_exact(1), Err(Error::Fatal("unexpected EOF".into())));
    }
}
