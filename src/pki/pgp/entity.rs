//! Keyrings as go-crypto's `openpgp.ReadKeyRing` / `ReadEntity` build them,
//! and `Entity.Serialize`.
//!
//! What survives parsing is what gets hashed, so the keep/drop rules are
//! Go's: a user ID is kept only with a verifying self-signature (an invalid
//! self-signature sinks the entity), with all signatures that follow it;
//! key revocations must verify and are kept, v4 direct-key and stray
//! signatures are dropped; a subkey needs a verifying binding signature, of
//! which only the newest is kept, plus all its (verifying) revocations. An
//! entity that fails with a structural or unsupported error is skipped; any
//! other error fails the whole keyring.
//!
//! Go stores identities in a map, so their serialisation order is random
//! (docs/INDEX_KEYS.md §5.2.3). Here they stay in the order they were read — one
//! of the orders Go can produce, and for a stored key (itself written by Go)
//! the order of the stored bytes. A repeated user ID replaces the earlier
//! one in its original position.

use super::key::KeyPacket;
use super::packet::{read_header, Error, Source, Stream};
use super::signature::{self as sig, Signature};
use super::verify::{verify, Budget};

/// A packet as go-crypto's `packet.Reader.Next` returns it.
enum Packet {
    Key {
        key: KeyPacket,
        secret: bool,
    },
    Signature(Signature),
    UserId(Vec<u8>),
    Marker,
    /// Packets entities ignore (user attributes, padding, message packets).
    Other,
}

/// go-crypto `packet.Read`.
fn read_packet(stream: &mut Stream<'_>) -> Result<Packet, Error> {
    let header = read_header(stream)?;
    let (tag, length, mut c) = (header.tag, header.length, header.contents);
    let result = match tag {
        2 => Signature::parse(&mut c).map(Packet::Signature),
        5 | 7 => KeyPacket::parse(&mut c, tag == 7).map(|key| {
            // The secret part is not validated (see the module doc of
            // `pgp`); go-crypto reads it to the end of the packet.
            c.consume_all();
            Packet::Key { key, secret: true }
        }),
        6 | 14 => KeyPacket::parse(&mut c, tag == 14).map(|key| Packet::Key { key, secret: false }),
        10 => c.read_full(3).map_err(Error::from).and_then(|m| {
            if m == b"PGP" {
                Ok(Packet::Marker)
            } else {
                Err(Error::structural("invalid marker packet"))
            }
        }),
        12 => Err(Error::UnknownPacket(tag)),
        13 => c.read_all().map(Packet::UserId).map_err(Error::from),
        17 => c
            .read_all()
            .map_err(Error::from)
            .and_then(|b| check_user_attribute(&b).map(|()| Packet::Other)),
        21 => match length {
            Some(n) => c.read_full(n).map(|_| Packet::Other).map_err(Error::from),
            // `Padding(-1)`: go-crypto copies nothing.
            None => Ok(Packet::Other),
        },
        1 | 3 | 4 | 8 | 9 | 11 | 18 | 20 => {
            c.consume_all();
            Ok(Packet::Other)
        }
        t if t < 40 => Err(Error::Fatal(format!(
            "openpgp: unknown critical packet type: {t}"
        ))),
        t => Err(Error::UnknownPacket(t)),
    };
    if result.is_err() {
        c.consume_all();
    }
    result
}

/// go-crypto `OpaqueSubpackets`: a user attribute's subpackets must frame.
fn check_user_attribute(mut b: &[u8]) -> Result<(), Error> {
    let truncated = || Error::structural("subpacket truncated");
    while let Some(&first) = b.first() {
        let (len_bytes, len) = match first {
            0..=191 => (1, usize::from(first)),
            192..=254 => {
                let b2 = *b.get(1).ok_or_else(truncated)?;
                (2, (usize::from(first - 192) << 8) + usize::from(b2) + 192)
            }
            255 => {
                let l = b.get(1..5).ok_or_else(truncated)?;
                (5, u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
            }
        };
        if b.len() < len_bytes + 1 || len == 0 || len > b.len() - len_bytes {
            return Err(truncated());
        }
        b = &b[len_bytes + len..];
    }
    Ok(())
}

/// go-crypto `packet.Reader`: skips unknown, unsupported and marker packets;
/// `io.EOF` ends it for good.
struct PacketReader<'a, 'b> {
    stream: Stream<'a>,
    unread: Option<Packet>,
    done: bool,
    /// Signature verifications left for the whole key.
    budget: &'b mut Budget,
}

impl PacketReader<'_, '_> {
    fn next(&mut self) -> Result<Packet, Error> {
        if let Some(p) = self.unread.take() {
            return Ok(p);
        }
        loop {
            if self.done {
                return Err(Error::Eof);
            }
            match read_packet(&mut self.stream) {
                Err(Error::Eof) => self.done = true,
                Err(Error::UnknownPacket(_) | Error::Unsupported(_)) | Ok(Packet::Marker) => {}
                other => return other,
            }
        }
    }

    fn unread(&mut self, p: Packet) {
        self.unread = Some(p);
    }
}

/// A user ID with the signatures kept for it.
struct Identity {
    id: Vec<u8>,
    signatures: Vec<Signature>,
}

struct Subkey {
    key: KeyPacket,
    secret: bool,
    binding: Signature,
    revocations: Vec<Signature>,
}

/// An OpenPGP entity (primary key, identities, subkeys).
pub struct Entity {
    primary: KeyPacket,
    revocations: Vec<Signature>,
    /// v6 direct-key signatures (go-crypto's `Entity.Signatures`).
    direct: Vec<Signature>,
    identities: Vec<Identity>,
    subkeys: Vec<Subkey>,
}

impl Entity {
    /// The raw user IDs, in serialisation order.
    pub fn user_ids(&self) -> impl Iterator<Item = &[u8]> {
        self.identities.iter().map(|i| i.id.as_slice())
    }

    /// Subkeys go-crypto's `DecryptionKeys` counts: secret, with binding
    /// flags that allow encryption.
    pub fn decryption_keys(&self) -> usize {
        self.subkeys
            .iter()
            .filter(|s| s.secret && s.binding.flag_encrypt())
            .count()
    }

    /// go-crypto `Entity.Serialize`.
    pub fn serialize(&self, out: &mut Vec<u8>) {
        self.primary.serialize(out);
        for s in self.revocations.iter().chain(&self.direct) {
            s.serialize(out);
        }
        for identity in &self.identities {
            super::packet::write_header(out, 13, identity.id.len());
            out.extend_from_slice(&identity.id);
            for s in &identity.signatures {
                s.serialize(out);
            }
        }
        for subkey in &self.subkeys {
            subkey.key.serialize(out);
            for s in &subkey.revocations {
                s.serialize(out);
            }
            subkey.binding.serialize(out);
        }
    }
}

/// go-crypto `openpgp.ReadKeyRing`, spending `budget` on the signatures
/// it verifies.
pub fn read_key_ring(data: &[u8], budget: &mut Budget) -> Result<Vec<Entity>, Error> {
    let mut reader = PacketReader {
        stream: Stream::new(data),
        unread: None,
        done: false,
        budget,
    };
    let mut entities = Vec::new();
    let mut last_skipped = None;
    loop {
        let err = match read_entity(&mut reader) {
            Ok(e) => {
                entities.push(e);
                continue;
            }
            Err(e @ (Error::Structural(_) | Error::Unsupported(_))) => {
                last_skipped = Some(e);
                match read_to_next_public_key(&mut reader) {
                    Ok(()) => continue,
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        if err == Error::Eof {
            break;
        }
        return Err(err);
    }
    match last_skipped {
        Some(e) if entities.is_empty() => Err(e),
        _ => Ok(entities),
    }
}

/// go-crypto `readToNextPublicKey`: up to the next primary public key.
fn read_to_next_public_key(reader: &mut PacketReader<'_, '_>) -> Result<(), Error> {
    loop {
        match reader.next()? {
            Packet::Key { key, secret: false } if !key.is_subkey => {
                reader.unread(Packet::Key { key, secret: false });
                return Ok(());
            }
            _ => {}
        }
    }
}

/// go-crypto `openpgp.ReadEntity`.
fn read_entity(reader: &mut PacketReader<'_, '_>) -> Result<Entity, Error> {
    let primary = match reader.next()? {
        Packet::Key { key, .. } => key,
        other => {
            reader.unread(other);
            return Err(Error::structural(
                "first packet was not a public/private key",
            ));
        }
    };
    if !primary.can_sign() {
        return Err(Error::structural(
            "primary key cannot be used for signatures",
        ));
    }
    let mut e = Entity {
        primary,
        revocations: Vec::new(),
        direct: Vec::new(),
        identities: Vec::new(),
        subkeys: Vec::new(),
    };
    let mut revocations = Vec::new();
    let mut direct = Vec::new();
    loop {
        let p = match reader.next() {
            Err(Error::Eof) => break,
            Err(err) => return Err(err),
            Ok(p) => p,
        };
        match p {
            Packet::UserId(id) => add_user_id(&mut e, reader, id)?,
            Packet::Signature(s) if s.sig_type == sig::TYPE_KEY_REVOCATION => revocations.push(s),
            Packet::Signature(s) if s.sig_type == sig::TYPE_DIRECT_KEY => direct.push(s),
            Packet::Key { key, secret } => {
                if !key.is_subkey {
                    reader.unread(Packet::Key { key, secret });
                    break;
                }
                add_subkey(&mut e, reader, key, secret)?;
            }
            _ => {}
        }
    }
    if e.identities.is_empty() && e.primary.version < 6 {
        return Err(Error::structural(format!(
            "v{} entity without any identities",
            e.primary.version
        )));
    }
    if e.primary.version == 6 {
        let key_hash = e.primary.hash_prefix_and_body();
        let main = direct
            .iter()
            .filter(|s| {
                s.sig_type == sig::TYPE_DIRECT_KEY
                    && s.issued_by(&e.primary.fingerprint, e.primary.key_id)
            })
            .fold(None::<&Signature>, |best, s| match best {
                Some(b) if s.creation_time <= b.creation_time => Some(b),
                _ => Some(s),
            });
        let Some(main) = main else {
            return Err(Error::structural(if direct.is_empty() {
                "v6 entity without a valid direct-key signature"
            } else {
                "no valid direct-key self-signature for v6 primary key found"
            }));
        };
        reader.budget.spend(1)?;
        if verify(&e.primary, &key_hash, main).is_err() {
            return Err(Error::structural(
                "invalid direct-key self-signature for v6 primary key",
            ));
        }
        e.direct = direct;
    }
    let key_hash = e.primary.hash_prefix_and_body();
    for r in revocations {
        reader.budget.spend(1)?;
        if verify(&e.primary, &key_hash, &r).is_err() {
            return Err(Error::structural(
                "revocation signature signed by alternate key",
            ));
        }
        e.revocations.push(r);
    }
    Ok(e)
}

/// go-crypto `addUserID`.
fn add_user_id(
    e: &mut Entity,
    reader: &mut PacketReader<'_, '_>,
    id: Vec<u8>,
) -> Result<(), Error> {
    let mut signatures = Vec::new();
    let mut self_signed = false;
    loop {
        let p = match reader.next() {
            Err(Error::Eof) => break,
            Err(err) => return Err(err),
            Ok(p) => p,
        };
        let Packet::Signature(s) = p else {
            reader.unread(p);
            break;
        };
        if !matches!(
            s.sig_type,
            sig::TYPE_GENERIC_CERT
                | sig::TYPE_PERSONA_CERT
                | sig::TYPE_CASUAL_CERT
                | sig::TYPE_POSITIVE_CERT
                | sig::TYPE_CERT_REVOCATION
        ) {
            return Err(Error::structural("user ID signature with wrong type"));
        }
        if s.issued_by(&e.primary.fingerprint, e.primary.key_id) {
            let mut data = e.primary.hash_prefix_and_body();
            data.push(0xb4);
            data.extend_from_slice(&(id.len() as u32).to_be_bytes());
            data.extend_from_slice(&id);
            reader.budget.spend(1)?;
            if let Err(why) = verify(&e.primary, &data, &s) {
                return Err(Error::structural(format!(
                    "user ID self-signature invalid: {why}"
                )));
            }
            self_signed = true;
        }
        signatures.push(s);
    }
    if self_signed {
        let identity = Identity { id, signatures };
        match e.identities.iter_mut().find(|i| i.id == identity.id) {
            Some(existing) => *existing = identity,
            None => e.identities.push(identity),
        }
    }
    Ok(())
}

/// go-crypto `addSubkey`.
fn add_subkey(
    e: &mut Entity,
    reader: &mut PacketReader<'_, '_>,
    key: KeyPacket,
    secret: bool,
) -> Result<(), Error> {
    let mut binding: Option<Signature> = None;
    let mut revocations = Vec::new();
    loop {
        let p = match reader.next() {
            Err(Error::Eof) => break,
            Err(err) => {
                return Err(Error::structural(format!(
                    "subkey signature invalid: {err}"
                )))
            }
            Ok(p) => p,
        };
        let Packet::Signature(s) = p else {
            reader.unread(p);
            break;
        };
        if s.sig_type != sig::TYPE_SUBKEY_BINDING && s.sig_type != sig::TYPE_SUBKEY_REVOCATION {
            return Err(Error::structural("subkey signature with wrong type"));
        }
        reader.budget.spend(if s.flag_sign() { 2 } else { 1 })?;
        if let Err(why) = verify_key_signature(&e.primary, &key, &s) {
            return Err(Error::structural(format!(
                "subkey signature invalid: {why}"
            )));
        }
        if s.sig_type == sig::TYPE_SUBKEY_REVOCATION {
            revocations.push(s);
        } else if binding
            .as_ref()
            .is_none_or(|b| s.creation_time > b.creation_time)
        {
            binding = Some(s);
        }
    }
    let Some(binding) = binding else {
        return Err(Error::structural("subkey packet not followed by signature"));
    };
    e.subkeys.push(Subkey {
        key,
        secret,
        binding,
        revocations,
    });
    Ok(())
}

/// go-crypto `PublicKey.VerifyKeySignature`, with the cross-signature a
/// signing subkey must carry.
fn verify_key_signature(
    primary: &KeyPacket,
    subkey: &KeyPacket,
    s: &Signature,
) -> Result<(), String> {
    let mut data = primary.hash_prefix_and_body();
    data.extend_from_slice(&subkey.hash_prefix_and_body());
    verify(primary, &data, s)?;
    if s.flag_sign() {
        let Some(embedded) = &s.embedded else {
            return Err("signing subkey is missing cross-signature".into());
        };
        verify(subkey, &data, embedded)
            .map_err(|why| format!("error while verifying cross-signature: {why}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_key_ring_unbounded(data: &[u8]) -> Result<Vec<Entity>, Error> {
        read_key_ring(data, &mut Budget::default())
    }

    #[test]
    fn user_attribute_framing() {
        assert!(check_user_attribute(&[]).is_ok());
        assert!(check_user_attribute(&[2, 1, 0xaa]).is_ok());
        assert!(check_user_attribute(&[3, 1, 0xaa]).is_err());
        assert!(check_user_attribute(&[0]).is_err());
        assert!(check_user_attribute(&[1]).is_err());
    }

    #[test]
    fn garbage_and_empty_keyrings() {
        assert!(read_key_ring_unbounded(&[]).unwrap().is_empty());
        // A trust packet alone is skipped.
        assert!(read_key_ring_unbounded(&[0xcc, 1, 0]).unwrap().is_empty());
        // A user ID without a key first: skipped entity, structural error.
        assert!(matches!(
            read_key_ring_unbounded(&[0xcd, 1, b'a']),
            Err(Error::Structural(_))
        ));
        // A critical unknown packet is fatal.
        assert!(matches!(
            read_key_ring_unbounded(&[0xcf, 0]),
            Err(Error::Fatal(_))
        ));
        // A bad marker is structural; a good one is skipped.
        assert!(read_key_ring_unbounded(&[0xca, 3, b'P', b'G', b'P'])
            .unwrap()
            .is_empty());
    }
}
