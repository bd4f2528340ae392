//! Signature packets (tag 2), as go-crypto's `Signature.parse` reads them
//! and `Signature.Serialize` re-emits a parsed one.
//!
//! Re-serialisation copies the hashed area verbatim but rebuilds the
//! unhashed area from the parsed subpackets with minimal length encodings,
//! and computes the packet length from the *re-encoded* sizes of both areas.
//! A hashed area with non-minimal subpacket lengths therefore yields a packet
//! whose header disagrees with its body — reproduced, not repaired, because
//! those are the bytes Rekor hashes.

use num_bigint::BigUint;

use super::key::{read_mpi, ALGO_DSA, ALGO_ECDSA, ALGO_ED25519, ALGO_ED448, ALGO_EDDSA};
use super::key::{ALGO_RSA, ALGO_RSA_SIGN_ONLY};
use super::packet::{write_header, Error, SliceSource, Source};

pub const TYPE_GENERIC_CERT: u8 = 0x10;
pub const TYPE_PERSONA_CERT: u8 = 0x11;
pub const TYPE_CASUAL_CERT: u8 = 0x12;
pub const TYPE_POSITIVE_CERT: u8 = 0x13;
pub const TYPE_SUBKEY_BINDING: u8 = 0x18;
pub const TYPE_PRIMARY_KEY_BINDING: u8 = 0x19;
pub const TYPE_DIRECT_KEY: u8 = 0x1f;
pub const TYPE_KEY_REVOCATION: u8 = 0x20;
pub const TYPE_SUBKEY_REVOCATION: u8 = 0x28;
pub const TYPE_CERT_REVOCATION: u8 = 0x30;

/// The digest algorithms go-crypto verifies with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgo {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha3_256,
    Sha3_512,
}

impl HashAlgo {
    /// `HashIdToHashWithSha1` (v4) / `HashIdToHash` (v6).
    fn from_id(id: u8, allow_sha1: bool) -> Option<HashAlgo> {
        Some(match id {
            2 if allow_sha1 => HashAlgo::Sha1,
            8 => HashAlgo::Sha256,
            9 => HashAlgo::Sha384,
            10 => HashAlgo::Sha512,
            11 => HashAlgo::Sha224,
            12 => HashAlgo::Sha3_256,
            14 => HashAlgo::Sha3_512,
            _ => return None,
        })
    }

    /// `SaltLengthForHash` (v6 signatures).
    fn salt_len(self) -> Option<usize> {
        match self {
            HashAlgo::Sha256 | HashAlgo::Sha224 | HashAlgo::Sha3_256 => Some(16),
            HashAlgo::Sha384 => Some(24),
            HashAlgo::Sha512 | HashAlgo::Sha3_512 => Some(32),
            HashAlgo::Sha1 => None,
        }
    }
}

/// The algorithm-specific signature value.
#[derive(Clone, Debug)]
pub enum SigValue {
    Rsa(Vec<u8>),
    /// DSA and ECDSA: (r, s).
    Pair(BigUint, BigUint),
    /// Legacy EdDSA: R and S as stored (leading zeros may be stripped).
    EdDsa(Vec<u8>, Vec<u8>),
    /// Native Ed25519 / Ed448.
    Native(Vec<u8>),
}

/// One subpacket as go-crypto's `rawSubpackets` keeps it.
#[derive(Clone, Debug)]
struct Subpacket {
    hashed: bool,
    kind: u8,
    critical: bool,
    contents: Vec<u8>,
}

/// A parsed signature packet.
#[derive(Clone, Debug)]
pub struct Signature {
    pub version: u8,
    pub sig_type: u8,
    pub algorithm: u8,
    pub hash: HashAlgo,
    hash_id: u8,
    hashed_area: Vec<u8>,
    subpackets: Vec<Subpacket>,
    pub salt: Vec<u8>,
    /// The value bytes as read (MPIs with their bit counts).
    value_raw: Vec<u8>,
    pub value: SigValue,
    pub creation_time: Option<u32>,
    pub issuer_key_id: Option<u64>,
    pub issuer_fingerprint: Option<Vec<u8>>,
    /// Key flags from the hashed area, OR-ed over repeated subpackets
    /// (`FlagsValid` and the flag bits).
    pub key_flags: Option<u8>,
    pub embedded: Option<Box<Signature>>,
}

impl Signature {
    /// go-crypto `Signature.parse`.
    pub fn parse(src: &mut dyn Source) -> Result<Signature, Error> {
        let version = src.read_exact(1)?[0];
        if version == 5 {
            return Err(Error::unsupported(
                "support for parsing v5 entities is disabled; build with `-tags v5` if needed",
            ));
        }
        if version != 4 && version != 6 {
            return Err(Error::unsupported(format!(
                "signature packet version {version}"
            )));
        }
        let head = src.read_exact(if version == 6 { 7 } else { 5 })?;
        let (sig_type, algorithm, hash_id) = (head[0], head[1], head[2]);
        if !matches!(
            algorithm,
            ALGO_RSA
                | ALGO_RSA_SIGN_ONLY
                | ALGO_DSA
                | ALGO_ECDSA
                | ALGO_EDDSA
                | ALGO_ED25519
                | ALGO_ED448
        ) {
            return Err(Error::unsupported(format!(
                "public key algorithm {algorithm}"
            )));
        }
        let hash = HashAlgo::from_id(hash_id, version < 5)
            .ok_or_else(|| Error::unsupported(format!("hash function {hash_id}")))?;
        let hashed_len = if version == 6 {
            u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize
        } else {
            usize::from(u16::from_be_bytes([head[3], head[4]]))
        };
        let hashed_area = src.read_exact(hashed_len)?;
        let mut sig = Signature {
            version,
            sig_type,
            algorithm,
            hash,
            hash_id,
            hashed_area: Vec::new(),
            subpackets: Vec::new(),
            salt: Vec::new(),
            value_raw: Vec::new(),
            value: SigValue::Native(Vec::new()),
            creation_time: None,
            issuer_key_id: None,
            issuer_fingerprint: None,
            key_flags: None,
            embedded: None,
        };
        sig.parse_subpackets(&hashed_area, true)?;
        sig.hashed_area = hashed_area;

        let unhashed_len = if version == 6 {
            let b = src.read_exact(4)?;
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        } else {
            let b = src.read_exact(2)?;
            usize::from(u16::from_be_bytes([b[0], b[1]]))
        };
        let unhashed = src.read_exact(unhashed_len)?;
        sig.parse_subpackets(&unhashed, false)?;

        let tag = src.read_exact(2)?;
        sig.value_raw.extend_from_slice(&tag);
        if version == 6 {
            let salt_len = usize::from(src.read_exact(1)?[0]);
            let expected = hash.salt_len().ok_or_else(|| {
                Error::unsupported("hash function not supported for V6 signatures")
            })?;
            if salt_len != expected {
                return Err(Error::structural(
                    "unexpected salt size for the given hash algorithm",
                ));
            }
            sig.salt = src.read_exact(expected)?;
        }
        // From here on `value_raw` holds the tag, then the value.
        sig.value = match algorithm {
            ALGO_RSA | ALGO_RSA_SIGN_ONLY => {
                SigValue::Rsa(read_mpi(src, &mut sig.value_raw)?.bytes)
            }
            ALGO_DSA | ALGO_ECDSA => {
                let r = read_mpi(src, &mut sig.value_raw)?.value();
                let s = read_mpi(src, &mut sig.value_raw)?.value();
                SigValue::Pair(r, s)
            }
            ALGO_EDDSA => {
                let r = read_mpi(src, &mut sig.value_raw)?.bytes;
                let s = read_mpi(src, &mut sig.value_raw)?.bytes;
                SigValue::EdDsa(r, s)
            }
            _ => {
                let len = if algorithm == ALGO_ED448 { 114 } else { 64 };
                let bytes = src.read_full(len)?;
                sig.value_raw.extend_from_slice(&bytes);
                SigValue::Native(bytes)
            }
        };
        Ok(sig)
    }

    /// go-crypto `parseSignatureSubpackets`.
    fn parse_subpackets(&mut self, mut area: &[u8], hashed: bool) -> Result<(), Error> {
        while !area.is_empty() {
            area = self.parse_subpacket(area, hashed)?;
        }
        if self.creation_time.is_none() {
            return Err(Error::structural("no creation time in signature"));
        }
        Ok(())
    }

    /// go-crypto `parseSignatureSubpacket`: one subpacket, returns the rest.
    fn parse_subpacket<'a>(&mut self, sub: &'a [u8], hashed: bool) -> Result<&'a [u8], Error> {
        let truncated = || Error::structural("signature subpacket truncated");
        let (length, rest) = match sub[0] {
            0..=191 => (usize::from(sub[0]), &sub[1..]),
            192..=254 => {
                let b2 = *sub.get(1).ok_or_else(truncated)?;
                (
                    (usize::from(sub[0] - 192) << 8) + usize::from(b2) + 192,
                    &sub[2..],
                )
            }
            255 => {
                let b = sub.get(1..5).ok_or_else(truncated)?;
                (
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
                    &sub[5..],
                )
            }
        };
        if length > rest.len() {
            return Err(truncated());
        }
        let (body, rest) = rest.split_at(length);
        let Some((&type_byte, contents)) = body.split_first() else {
            return Err(Error::structural("zero length signature subpacket"));
        };
        let kind = type_byte & 0x7f;
        let critical = type_byte & 0x80 != 0;
        self.subpackets.push(Subpacket {
            hashed,
            kind,
            critical,
            contents: contents.to_vec(),
        });
        if !hashed && !matches!(kind, 16 | 32 | 33) {
            return Ok(rest);
        }
        let bad = |what: &str| Err(Error::structural(what.to_string()));
        match kind {
            2 => {
                let Ok(t) = <[u8; 4]>::try_from(contents) else {
                    return bad("signature creation time not four bytes");
                };
                self.creation_time = Some(u32::from_be_bytes(t));
            }
            3 if contents.len() != 4 => return bad("expiration subpacket with bad length"),
            4 => match contents.first() {
                Some(0) => {
                    return Err(Error::unsupported(
                        "signature with non-exportable certification",
                    ))
                }
                Some(_) => {}
                // Go indexes the empty slice and panics; the key is unusable.
                None => return Err(Error::Fatal("exportable subpacket is empty".into())),
            },
            5 if contents.len() != 2 => return bad("trust subpacket with bad length"),
            6 => {
                if contents.is_empty() {
                    return bad("regexp subpacket with bad length");
                }
                if contents.last() != Some(&0) {
                    return bad("expected regular expression to be null-terminated");
                }
            }
            9 if contents.len() != 4 => return bad("key expiration subpacket with bad length"),
            16 => {
                if self.version > 4 && hashed {
                    return bad("issuer subpacket found in v6 key");
                }
                let Ok(id) = <[u8; 8]>::try_from(contents) else {
                    return bad("issuer subpacket with bad length");
                };
                if self.version <= 4 {
                    self.issuer_key_id = Some(u64::from_be_bytes(id));
                }
            }
            20 => {
                if contents.len() < 8 {
                    return bad("notation data subpacket with bad length");
                }
                let name = usize::from(u16::from_be_bytes([contents[4], contents[5]]));
                let value = usize::from(u16::from_be_bytes([contents[6], contents[7]]));
                if contents.len() != name + value + 8 {
                    return bad("notation data subpacket with bad length");
                }
            }
            25 if contents.len() != 1 => return bad("primary user id subpacket with bad length"),
            27 => {
                let flags = contents.first().copied().unwrap_or(0);
                self.key_flags = Some(self.key_flags.unwrap_or(0) | flags);
            }
            29 if contents.is_empty() => return bad("empty revocation reason subpacket"),
            32 => {
                if self.embedded.is_some() {
                    return bad("Cannot have multiple embedded signatures");
                }
                let embedded = Signature::parse(&mut SliceSource(contents))?;
                if embedded.sig_type != TYPE_PRIMARY_KEY_BINDING {
                    return Err(Error::structural(format!(
                        "cross-signature has unexpected type {}",
                        embedded.sig_type
                    )));
                }
                self.embedded = Some(Box::new(embedded));
            }
            33 => {
                let Some((&v, fp)) = contents.split_first() else {
                    return bad("empty issuer fingerprint subpacket");
                };
                if (v >= 5 && fp.len() != 32) || (v < 5 && fp.len() != 20) {
                    return bad("bad fingerprint length");
                }
                let id = if v >= 5 { &fp[..8] } else { &fp[12..20] };
                self.issuer_key_id = Some(u64::from_be_bytes(id.try_into().unwrap_or_default()));
                self.issuer_fingerprint = Some(fp.to_vec());
            }
            35 => {
                let Some((&v, fp)) = contents.split_first() else {
                    return bad("invalid intended recipient fingerpring length");
                };
                if (v >= 5 && fp.len() != 32) || (v < 5 && fp.len() != 20) {
                    return bad("invalid fingerprint length");
                }
            }
            39 if contents.len() % 2 != 0 => return bad("invalid aead cipher suite length"),
            3..=6 | 9 | 11 | 20..=30 | 39 => {}
            _ if critical => {
                return Err(Error::unsupported(format!(
                    "unknown critical signature subpacket type {kind}"
                )))
            }
            _ => {}
        }
        Ok(rest)
    }

    /// `HashSuffix`: the signed trailer appended to the hashed data.
    pub fn hash_suffix(&self) -> Vec<u8> {
        let mut out = vec![self.version, self.sig_type, self.algorithm, self.hash_id];
        if self.version == 6 {
            out.extend_from_slice(&(self.hashed_area.len() as u32).to_be_bytes());
        } else {
            out.extend_from_slice(&(self.hashed_area.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(&self.hashed_area);
        let len = out.len() as u32;
        out.extend_from_slice(&[self.version, 0xff]);
        out.extend_from_slice(&len.to_be_bytes());
        out
    }

    /// Key flags with the "sign" bit: the subkey needs a cross-signature.
    pub fn flag_sign(&self) -> bool {
        self.key_flags.is_some_and(|f| f & 0x02 != 0)
    }

    /// Key flags with an encryption bit (communications or storage).
    pub fn flag_encrypt(&self) -> bool {
        self.key_flags.is_some_and(|f| f & 0x0c != 0)
    }

    /// The two leading bytes of the signed digest, as stored.
    pub fn hash_tag(&self) -> [u8; 2] {
        [self.value_raw[0], self.value_raw[1]]
    }

    /// go-crypto `CheckKeyIdOrFingerprint`.
    pub fn issued_by(&self, fingerprint: &[u8], key_id: u64) -> bool {
        match &self.issuer_fingerprint {
            Some(fp) if fp.len() >= 20 => fp == fingerprint,
            _ => self.issuer_key_id == Some(key_id),
        }
    }

    /// go-crypto `Signature.Serialize` of a parsed signature.
    pub fn serialize(&self, out: &mut Vec<u8>) {
        let hashed_len: usize = self
            .subpackets
            .iter()
            .filter(|s| s.hashed)
            .map(|s| subpacket_length_length(s.contents.len() + 1) + 1 + s.contents.len())
            .sum();
        let mut unhashed = Vec::new();
        for s in self.subpackets.iter().filter(|s| !s.hashed) {
            write_subpacket_length(&mut unhashed, s.contents.len() + 1);
            unhashed.push(s.kind | if s.critical { 0x80 } else { 0 });
            unhashed.extend_from_slice(&s.contents);
        }
        let mut length = 4 + 2 + hashed_len + 2 + unhashed.len() + self.value_raw.len();
        if self.version == 6 {
            length += 4 + 1 + self.salt.len();
        }
        write_header(out, 2, length);
        out.extend_from_slice(&[self.version, self.sig_type, self.algorithm, self.hash_id]);
        if self.version == 6 {
            out.extend_from_slice(&(self.hashed_area.len() as u32).to_be_bytes());
            out.extend_from_slice(&self.hashed_area);
            out.extend_from_slice(&(unhashed.len() as u32).to_be_bytes());
        } else {
            out.extend_from_slice(&(self.hashed_area.len() as u16).to_be_bytes());
            out.extend_from_slice(&self.hashed_area);
            out.extend_from_slice(&(unhashed.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(&unhashed);
        out.extend_from_slice(&self.value_raw[..2]);
        if self.version == 6 {
            out.push(self.salt.len() as u8);
            out.extend_from_slice(&self.salt);
        }
        out.extend_from_slice(&self.value_raw[2..]);
    }
}

/// go-crypto `subpacketLengthLength` (note the 16320 bound, not 8384).
fn subpacket_length_length(len: usize) -> usize {
    if len < 192 {
        1
    } else if len < 16320 {
        2
    } else {
        5
    }
}

/// go-crypto `serializeSubpacketLength`.
fn write_subpacket_length(out: &mut Vec<u8>, len: usize) {
    if len < 192 {
        out.push(len as u8);
    } else if len < 16320 {
        let l = len - 192;
        out.push(((l >> 8) + 192) as u8);
        out.push(l as u8);
    } else {
        out.push(255);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A v4 RSA signature body: hashed creation time (+ `hashed_extra`),
    /// unhashed area as given, tag 0xAB 0xCD, a 9-bit MPI.
    pub fn v4_body(sig_type: u8, hashed_extra: &[u8], unhashed: &[u8]) -> Vec<u8> {
        let mut hashed = vec![5, 2, 0x60, 0, 0, 0];
        hashed.extend_from_slice(hashed_extra);
        let mut b = vec![4, sig_type, ALGO_RSA, 8];
        b.extend_from_slice(&(hashed.len() as u16).to_be_bytes());
        b.extend_from_slice(&hashed);
        b.extend_from_slice(&(unhashed.len() as u16).to_be_bytes());
        b.extend_from_slice(unhashed);
        b.extend_from_slice(&[0xab, 0xcd, 0, 9, 1, 0xff]);
        b
    }

    fn parse(body: &[u8]) -> Result<Signature, Error> {
        Signature::parse(&mut SliceSource(body))
    }

    fn reserialize(sig: &Signature) -> Vec<u8> {
        let mut out = Vec::new();
        sig.serialize(&mut out);
        out
    }

    #[test]
    fn minimal_signature_round_trips() {
        let issuer = [9, 16, 1, 2, 3, 4, 5, 6, 7, 8];
        let body = v4_body(TYPE_POSITIVE_CERT, &[], &issuer);
        let sig = parse(&body).unwrap();
        assert_eq!(sig.creation_time, Some(0x6000_0000));
        assert_eq!(sig.issuer_key_id, Some(0x0102_0304_0506_0708));
        assert_eq!(sig.hash_tag(), [0xab, 0xcd]);
        let out = reserialize(&sig);
        assert_eq!(out[..2], [0xc2, body.len() as u8]);
        assert_eq!(&out[2..], &body[..]);
        let suffix = sig.hash_suffix();
        assert_eq!(&suffix[..4], &[4, TYPE_POSITIVE_CERT, ALGO_RSA, 8]);
        assert_eq!(&suffix[suffix.len() - 6..], &[4, 0xff, 0, 0, 0, 12]);
    }

    #[test]
    fn unhashed_lengths_are_reencoded_minimally_but_hashed_kept() {
        // Unhashed issuer written with a 5-byte length.
        let long_issuer = [255, 0, 0, 0, 9, 16, 1, 2, 3, 4, 5, 6, 7, 8];
        let sig = parse(&v4_body(TYPE_GENERIC_CERT, &[], &long_issuer)).unwrap();
        let out = reserialize(&sig);
        let short = v4_body(TYPE_GENERIC_CERT, &[], &[9, 16, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&out[2..], &short[..]);
        // A hashed subpacket with a 5-byte length stays verbatim, while the
        // packet length counts it as minimal: header and body disagree.
        let hashed_long = [255, 0, 0, 0, 2, 30, 1];
        let body = v4_body(TYPE_GENERIC_CERT, &hashed_long, &[]);
        let out = reserialize(&parse(&body).unwrap());
        assert_eq!(&out[2..], &body[..]);
        assert_eq!(usize::from(out[1]), body.len() - 4);
    }

    #[test]
    fn subpacket_length_encoding_uses_go_bounds() {
        for (len, n) in [(191, 1), (192, 2), (8384, 2), (16319, 2), (16320, 5)] {
            let mut out = Vec::new();
            write_subpacket_length(&mut out, len);
            assert_eq!(out.len(), n, "{len}");
            assert_eq!(subpacket_length_length(len), n);
        }
        let mut out = Vec::new();
        write_subpacket_length(&mut out, 10000);
        assert_eq!(out, [230, 80]);
    }

    #[test]
    fn error_classes_follow_go() {
        // No creation time.
        let mut b = vec![4, 0x13, 1, 8, 0, 0, 0, 0, 0xab, 0xcd, 0, 1, 1];
        assert!(matches!(parse(&b), Err(Error::Structural(_))));
        // Unsupported hash (MD5) and algorithm (ElGamal).
        b = v4_body(0x13, &[], &[]);
        b[3] = 1;
        assert!(matches!(parse(&b), Err(Error::Unsupported(_))));
        b = v4_body(0x13, &[], &[]);
        b[2] = 16;
        assert!(matches!(parse(&b), Err(Error::Unsupported(_))));
        // Non-exportable certification, only when hashed.
        assert!(matches!(
            parse(&v4_body(0x10, &[2, 4, 0], &[])),
            Err(Error::Unsupported(_))
        ));
        assert!(parse(&v4_body(0x10, &[], &[2, 4, 0])).is_ok());
        // Unknown critical subpacket: unsupported when hashed only.
        assert!(matches!(
            parse(&v4_body(0x10, &[2, 0x80 | 100, 0], &[])),
            Err(Error::Unsupported(_))
        ));
        assert!(parse(&v4_body(0x10, &[], &[2, 0x80 | 100, 0])).is_ok());
        // Bad issuer length is structural even unhashed.
        assert!(matches!(
            parse(&v4_body(0x10, &[], &[3, 16, 1, 2])),
            Err(Error::Structural(_))
        ));
        // Truncated subpacket and zero-length subpacket.
        assert!(matches!(
            parse(&v4_body(0x10, &[9, 16], &[])),
            Err(Error::Structural(_))
        ));
        assert!(matches!(
            parse(&v4_body(0x10, &[0], &[])),
            Err(Error::Structural(_))
        ));
        // v3 signatures are unsupported; a truncated value is fatal.
        assert!(matches!(parse(&[3, 0, 0]), Err(Error::Unsupported(_))));
        let b = v4_body(0x10, &[], &[]);
        assert!(matches!(parse(&b[..b.len() - 1]), Err(Error::Fatal(_))));
    }

    #[test]
    fn issuer_fingerprint_wins_over_key_id() {
        let mut fp_sub = vec![22, 33, 4];
        fp_sub.extend_from_slice(&[7; 20]);
        let sig = parse(&v4_body(0x13, &fp_sub, &[9, 16, 0, 0, 0, 0, 0, 0, 0, 1])).unwrap();
        assert!(sig.issued_by(&[7; 20], 99));
        assert!(!sig.issued_by(&[8; 20], 1));
        let sig = parse(&v4_body(0x13, &[], &[9, 16, 0, 0, 0, 0, 0, 0, 0, 1])).unwrap();
        assert!(sig.issued_by(&[8; 20], 1));
    }
}
