//! SSH public keys (Rekor `pkg/pki/ssh`, golang.org/x/crypto v0.55.0 `ssh`).
//!
//! Rekor parses an authorized_keys line (`ssh.ParseAuthorizedKey`: comments,
//! options, declared type must equal the blob's type) and canonicalises it
//! with `ssh.MarshalAuthorizedKey`: type, space, base64 of the key
//! *re-marshalled from its parsed fields*, newline — the comment is dropped
//! and non-minimal mpints are normalised. The subject is the comment when it
//! is an e-mail address, which canonical stored keys never have.
//!
//! Supported: ssh-rsa, ssh-dss, ecdsa-sha2-nistp{256,384,521}, ssh-ed25519
//! and the two FIDO (`sk-`) types. OpenSSH certificates are refused for now
//! (Go accepts them; none is known in the log).

use num_bigint::{BigInt, Sign};

use super::ec::Curve;
use super::gostr::trim_space;
use super::{email, gobase64, PkiError, PublicKey};

/// Rekor reads at most this much (`http.MaxBytesReader`).
const MAX_INPUT: usize = 65536;

const SK_ECDSA: &str = "sk-ecdsa-sha2-nistp256@openssh.com";
const SK_ED25519: &str = "sk-ssh-ed25519@openssh.com";

/// A parsed SSH key: its type, its re-marshalled wire form, its comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshKey {
    key_type: String,
    wire: Vec<u8>,
    comment: String,
}

impl SshKey {
    /// Rekor `ssh.NewPublicKey`.
    pub fn parse(input: &[u8]) -> Result<SshKey, PkiError> {
        if input.len() > MAX_INPUT {
            return Err(PkiError::limit("http: request body too large"));
        }
        parse_authorized_key(input)
    }
}

impl PublicKey for SshKey {
    fn canonical_value(&self) -> Result<Vec<u8>, PkiError> {
        Ok(format!("{} {}\n", self.key_type, gobase64::encode(&self.wire)).into_bytes())
    }

    fn subjects(&self) -> Vec<String> {
        if email::is_email(&self.comment) {
            vec![self.comment.clone()]
        } else {
            Vec::new()
        }
    }
}

/// Go `ssh.ParseAuthorizedKey`: the first line that holds a key.
fn parse_authorized_key(mut input: &[u8]) -> Result<SshKey, PkiError> {
    let mut last_err: Option<PkiError> = None;
    while !input.is_empty() {
        let (line, rest) = match input.iter().position(|&b| b == b'\n') {
            Some(end) => (&input[..end], &input[end + 1..]),
            None => (input, &[][..]),
        };
        input = rest;
        let line = match line.iter().position(|&b| b == b'\r') {
            Some(end) => &line[..end],
            None => line,
        };
        let line = trim_space(line);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let Some(i) = index_any_space(line) else {
            continue;
        };
        match typed_key(&line[..i], &line[i..]) {
            Ok(key) => return Ok(key),
            Err(e) => last_err = Some(e),
        }

        // Maybe an options field comes first.
        let Some(end_of_options) = options_end(line) else {
            continue;
        };
        let after = &line[end_of_options..];
        let skip = after
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let after = &after[skip..];
        if after.is_empty() {
            continue;
        }
        let Some(i) = index_any_space(after) else {
            continue;
        };
        match typed_key(&after[..i], &after[i..]) {
            Ok(key) => return Ok(key),
            Err(e) => last_err = Some(e),
        }
    }
    Err(match last_err {
        Some(e) => PkiError::decode(format!(
            "ssh: no key found; last parsing error for ignored line: {e}"
        )),
        None => PkiError::decode("ssh: no key found"),
    })
}

/// The index of the unquoted space or tab that ends the options field.
fn options_end(line: &[u8]) -> Option<usize> {
    let mut in_quote = false;
    for (i, &b) in line.iter().enumerate() {
        if !in_quote && (b == b' ' || b == b'\t') {
            return Some(i);
        }
        if b == b'"' && (i == 0 || line[i - 1] != b'\\') {
            in_quote = !in_quote;
        }
    }
    None
}

fn index_any_space(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b' ' || c == b'\t')
}

/// `parseAuthorizedKey` on the text after the declared type, plus the check
/// that the declared type equals the key's own type.
fn typed_key(declared: &[u8], text: &[u8]) -> Result<SshKey, PkiError> {
    let text = trim_space(text);
    let i = index_any_space(text).unwrap_or(text.len());
    let blob = gobase64::decode(&text[..i])?;
    let (key_type, wire) = parse_public_key(&blob)?;
    if declared != key_type.as_bytes() {
        return Err(PkiError::decode(format!(
            "ssh: authorized keys key type mismatch: human-readable type {:?}, encoded type {key_type:?}",
            String::from_utf8_lossy(declared)
        )));
    }
    let comment = crate::pki::gostr::lossy_utf8(trim_space(&text[i..]));
    Ok(SshKey {
        key_type,
        wire,
        comment,
    })
}

/// Go `ssh.ParsePublicKey` then `Marshal()`: the key type and the
/// re-marshalled wire blob.
fn parse_public_key(blob: &[u8]) -> Result<(String, Vec<u8>), PkiError> {
    let short = || PkiError::decode("ssh: short read");
    let mut r = Reader(blob);
    let algo = r.string().ok_or_else(short)?;
    let algo = String::from_utf8_lossy(algo).into_owned();
    let mut w = Writer::default();
    w.string(algo.as_bytes());
    match algo.as_str() {
        "ssh-rsa" => {
            let e = r.mpint().ok_or_else(short)?;
            let n = r.mpint().ok_or_else(short)?;
            if n.bits() > 16384 {
                return Err(PkiError::limit("ssh: rsa modulus too large"));
            }
            if e.bits() > 24 {
                return Err(PkiError::limit("ssh: exponent too large"));
            }
            let e_small = i64::try_from(&e).unwrap_or(0);
            if e_small < 3 || e_small & 1 == 0 {
                return Err(PkiError::decode("ssh: incorrect exponent"));
            }
            w.mpint(&e);
            w.mpint(&n);
        }
        "ssh-dss" => {
            let p = r.mpint().ok_or_else(short)?;
            let q = r.mpint().ok_or_else(short)?;
            let g = r.mpint().ok_or_else(short)?;
            let y = r.mpint().ok_or_else(short)?;
            if p.bits() != 1024 {
                return Err(PkiError::unsupported("ssh: unsupported DSA key size"));
            }
            if q.bits() != 160 {
                return Err(PkiError::unsupported("ssh: unsupported DSA sub-prime size"));
            }
            if g >= p || g.sign() != Sign::Plus {
                return Err(PkiError::decode("ssh: DSA generator out of range"));
            }
            if y.sign() != Sign::Plus || y >= p {
                return Err(PkiError::decode("ssh: DSA public value Y out of range"));
            }
            for v in [&p, &q, &g, &y] {
                w.mpint(v);
            }
        }
        "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521" | SK_ECDSA => {
            let curve_name = r.string().ok_or_else(short)?;
            let point = r.string().ok_or_else(short)?;
            let curve = match curve_name {
                b"nistp256" => Curve::P256,
                b"nistp384" if algo != SK_ECDSA => Curve::P384,
                b"nistp521" if algo != SK_ECDSA => Curve::P521,
                _ => return Err(PkiError::unsupported("ssh: unsupported curve")),
            };
            if algo != SK_ECDSA
                && algo.as_bytes() != [b"ecdsa-sha2-".as_slice(), curve_name].concat()
            {
                return Err(PkiError::decode("ssh: algorithm type mismatch"));
            }
            if !curve.is_valid_uncompressed(point) {
                return Err(PkiError::decode("ssh: invalid curve point"));
            }
            w.string(curve_name);
            w.string(point);
            if algo == SK_ECDSA {
                let application = r.string().ok_or_else(short)?;
                w.string(application);
            }
        }
        "ssh-ed25519" | SK_ED25519 => {
            let key = r.string().ok_or_else(short)?;
            if key.len() != 32 {
                return Err(PkiError::decode(format!(
                    "invalid size {} for Ed25519 public key",
                    key.len()
                )));
            }
            w.string(key);
            if algo == SK_ED25519 {
                let application = r.string().ok_or_else(short)?;
                w.string(application);
            }
        }
        a if a.ends_with("-cert-v01@openssh.com") => {
            return Err(PkiError::unsupported(format!(
                "ssh certificate keys ({a}) are not supported yet"
            )))
        }
        a => {
            return Err(PkiError::unsupported(format!(
                "ssh: unknown key algorithm: {a}"
            )))
        }
    }
    if !r.0.is_empty() {
        return Err(PkiError::decode("ssh: trailing junk in public key"));
    }
    Ok((algo, w.0))
}

/// The SSH wire format reader (`parseString`, `parseInt`).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn string(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_be_bytes(self.0.get(..4)?.try_into().ok()?);
        let len = usize::try_from(len).ok()?;
        let body = self.0.get(4..4usize.checked_add(len)?)?;
        self.0 = &self.0[4 + len..];
        Some(body)
    }

    fn mpint(&mut self) -> Option<BigInt> {
        Some(BigInt::from_signed_bytes_be(self.string()?))
    }
}

/// The SSH wire format writer (`Marshal`).
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn string(&mut self, s: &[u8]) {
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(s);
    }

    /// Minimal two's complement; zero is the empty string.
    fn mpint(&mut self, n: &BigInt) {
        if n.sign() == Sign::NoSign {
            self.string(&[]);
        } else {
            self.string(&n.to_signed_bytes_be());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed25519_line(comment: &str) -> String {
        let mut w = Writer::default();
        w.string(b"ssh-ed25519");
        w.string(&[9u8; 32]);
        format!("ssh-ed25519 {} {comment}", gobase64::encode(&w.0))
    }

    #[test]
    fn canonical_drops_comment_and_options() {
        let line = ed25519_line("test@rekor.dev");
        let key = SshKey::parse(line.as_bytes()).unwrap();
        let expected = format!("{}\n", line.rsplit_once(' ').unwrap().0);
        assert_eq!(key.canonical_value().unwrap(), expected.as_bytes());
        assert_eq!(key.subjects(), ["test@rekor.dev"]);

        let with_options = format!(
            "# comment\n\ncommand=\"echo a b\",no-pty {}",
            ed25519_line("x")
        );
        let key2 = SshKey::parse(with_options.as_bytes()).unwrap();
        assert_eq!(key2.canonical_value().unwrap(), expected.as_bytes());
        assert!(key2.subjects().is_empty());
    }

    #[test]
    fn non_minimal_mpint_is_normalised() {
        let mut w = Writer::default();
        w.string(b"ssh-rsa");
        w.string(&[0x00, 0x00, 0x01, 0x00, 0x01]); // e = 65537, padded
        w.string(&[0x00, 0xc5, 0x11]); // n
        let line = format!("ssh-rsa {}", gobase64::encode(&w.0));
        let key = SshKey::parse(line.as_bytes()).unwrap();
        let mut m = Writer::default();
        m.string(b"ssh-rsa");
        m.string(&[0x01, 0x00, 0x01]);
        m.string(&[0x00, 0xc5, 0x11]);
        assert_eq!(
            key.canonical_value().unwrap(),
            format!("ssh-rsa {}\n", gobase64::encode(&m.0)).as_bytes()
        );
    }

    #[test]
    fn rejects_mismatch_trailing_junk_and_bad_exponent() {
        let line = ed25519_line("");
        let mismatched = line.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(SshKey::parse(mismatched.as_bytes()).is_err());

        let mut w = Writer::default();
        w.string(b"ssh-ed25519");
        w.string(&[9u8; 32]);
        w.0.push(0);
        assert!(
            SshKey::parse(format!("ssh-ed25519 {}", gobase64::encode(&w.0)).as_bytes()).is_err()
        );

        let mut rsa = Writer::default();
        rsa.string(b"ssh-rsa");
        rsa.string(&[0x02]);
        rsa.string(&[0x00, 0xc5]);
        assert!(SshKey::parse(format!("ssh-rsa {}", gobase64::encode(&rsa.0)).as_bytes()).is_err());
        assert!(SshKey::parse(b"no key here").is_err());
        assert!(SshKey::parse(&vec![b' '; MAX_INPUT + 1]).is_err());
    }
}
