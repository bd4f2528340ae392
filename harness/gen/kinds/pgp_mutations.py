#!/usr/bin/env python3
"""Mutated OpenPGP keys as rekord bodies, for differential checks of key
parsing (rekor-backfill against Rekor's Go code via harness/parity.sh).

Takes the keys pgp.sh made (binary *.gpg and armored *.asc in its scratch
directory) and writes one `{"body": base64}` line per mutant: a rekord body
whose publicKey.content is the mutated key. Mutations hit the places where
go-crypto's behaviour is easy to get wrong: header forms (old format,
5-byte and partial lengths), truncation and bit flips, inserted trust,
marker, padding, unknown and user-attribute packets, duplicated, dropped
and swapped packets, bytes a packet parser leaves unread, subpacket length
encodings, unknown critical subpackets, changed versions, algorithms, hash
and signature types, and armor variations (CRLF, headers, long lines, no
blank line, missing checksum, several blocks, wrong block types).

Mutants containing packet types go-crypto parses but rekor-backfill only
skips (secret keys, message packets: documented in src/pki/pgp/mod.rs) are
left out, so any difference parity reports is a real one.

usage: pgp_mutations.py KEY_DIR OUT_JSONL [SEED] [COUNT]
"""

import base64
import glob
import hashlib
import json
import random
import sys

# Packet tags whose content go-crypto reads but rekor-backfill does not.
GAP_TAGS = {1, 3, 4, 5, 7, 8, 9, 11, 18, 20}


def packets(data):
    """(tag, body) pairs; raises on malformed framing."""
    out, i = [], 0
    while i < len(data):
        b = data[i]
        if not b & 0x80:
            raise ValueError("no packet header")
        if b & 0x40:
            tag, first = b & 0x3F, data[i + 1]
            if first < 192:
                n, h = first, 2
            elif first < 224:
                n, h = ((first - 192) << 8) + data[i + 2] + 192, 3
            elif first == 255:
                n, h = int.from_bytes(data[i + 2:i + 6], "big"), 6
            else:
                raise ValueError("partial length")
        else:
            tag, length_type = (b & 0x3F) >> 2, b & 3
            if length_type == 3:
                raise ValueError("indeterminate length")
            h = 1 + (1 << length_type)
            n = int.from_bytes(data[i + 1:i + h], "big")
        if i + h + n > len(data):
            raise ValueError("truncated")
        out.append((tag, data[i + h:i + h + n]))
        i += h + n
    return out


def tags_seen(data):
    """Every tag a tolerant walk finds, including in partial bodies."""
    seen, i = set(), 0
    while i < len(data):
        b = data[i]
        if not b & 0x80:
            i += 1
            continue
        seen.add(b & 0x3F if b & 0x40 else (b & 0x3F) >> 2)
        try:
            _, body = packets(data[i:])[0]
            i += len(body) + 2
        except (ValueError, IndexError):
            i += 1
    return seen


def new_header(tag, n):
    if n < 192:
        return bytes([0xC0 | tag, n])
    if n < 8384:
        return bytes([0xC0 | tag, 192 + ((n - 192) >> 8), (n - 192) & 0xFF])
    return bytes([0xC0 | tag, 255]) + n.to_bytes(4, "big")


def old_header(tag, n):
    if n < 256:
        return bytes([0x80 | (tag << 2), n])
    if n < 65536:
        return bytes([0x81 | (tag << 2)]) + n.to_bytes(2, "big")
    return bytes([0x82 | (tag << 2)]) + n.to_bytes(4, "big")


def long_header(tag, n):
    return bytes([0xC0 | tag, 255]) + n.to_bytes(4, "big")


def partial(tag, body):
    out, i = bytes([0xC0 | tag]), 0
    while len(body) - i >= 8:
        out += bytes([224 + 2]) + body[i:i + 4]
        i += 4
    rest = body[i:]
    return out + new_header(0, len(rest))[1:] + rest


def serialize(pk, header=new_header):
    return b"".join(header(t, len(b)) + b for t, b in pk)


def reencode_subpackets(area):
    """The same subpackets with 5-byte lengths."""
    out, j = b"", 0
    while j < len(area):
        first = area[j]
        if first < 192:
            n, h = first, 1
        elif first < 255:
            n, h = ((first - 192) << 8) + area[j + 1] + 192, 2
        else:
            n, h = int.from_bytes(area[j + 1:j + 5], "big"), 5
        out += bytes([255]) + n.to_bytes(4, "big") + area[j + h:j + h + n]
        j += h + n
    return out


def v4_signatures(pk):
    return [i for i, (t, b) in enumerate(pk) if t == 2 and b and b[0] == 4]


def split_signature(b):
    hl = int.from_bytes(b[4:6], "big")
    ul = int.from_bytes(b[6 + hl:8 + hl], "big")
    return b[:4], b[6:6 + hl], b[8 + hl:8 + hl + ul], b[8 + hl + ul:]


def join_signature(head, hashed, unhashed, rest):
    return (head + len(hashed).to_bytes(2, "big") + hashed
            + len(unhashed).to_bytes(2, "big") + unhashed + rest)


def mutate(rng, key, others):
    try:
        pk = packets(key)
    except (ValueError, IndexError):
        return key
    r = rng.randrange(21)
    if r == 0:
        return key[:rng.randrange(len(key))]
    if r == 1:
        b = bytearray(key)
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b)
    if r == 2:
        return serialize(pk, old_header)
    if r == 3:
        return serialize(pk, long_header)
    if r == 4:
        return b"".join(partial(t, b) if rng.random() < 0.5 else new_header(t, len(b)) + b
                        for t, b in pk)
    if r == 5:
        extra = rng.choice([(12, b"\x00\x01"), (10, b"PGP"), (10, b"XYZ"), (61, b"hello"),
                            (17, b"\x02\x01\xaa"), (17, b"\x05\x01"), (21, b"\x00" * 5),
                            (19, b"x"), (13, b"Inserted <inserted@example.com>")])
        pk.insert(rng.randrange(len(pk) + 1), extra)
        return serialize(pk)
    if r == 6:
        uids = [p for p in pk if p[0] == 13]
        if uids:
            pk.insert(rng.randrange(len(pk) + 1), rng.choice(uids))
        return serialize(pk)
    if r == 7 and len(pk) > 1:
        del pk[rng.randrange(1, len(pk))]
        return serialize(pk)
    if r == 8 and len(pk) > 2:
        i = rng.randrange(1, len(pk) - 1)
        pk[i], pk[i + 1] = pk[i + 1], pk[i]
        return serialize(pk)
    if r == 9:
        i = rng.randrange(len(pk))
        pk[i] = (pk[i][0], pk[i][1] + bytes(rng.randrange(1, 4)))
        return serialize(pk)
    if r == 10:
        return key + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5)))
    if r == 11:
        return key + key
    if r == 12 and v4_signatures(pk):
        i = rng.choice(v4_signatures(pk))
        head, hashed, unhashed, rest = split_signature(pk[i][1])
        if rng.random() < 0.5:
            hashed = reencode_subpackets(hashed)
        else:
            unhashed = reencode_subpackets(unhashed)
        pk[i] = (2, join_signature(head, hashed, unhashed, rest))
        return serialize(pk)
    if r == 13 and v4_signatures(pk):
        i = rng.choice(v4_signatures(pk))
        head, hashed, unhashed, rest = split_signature(pk[i][1])
        sub = rng.choice([bytes([2, 0x80 | 100, 0]), bytes([2, 100, 0]), bytes([9, 16]) + bytes(8),
                          bytes([3, 16, 1, 2]), bytes([2, 4, 0]), bytes([1, 27])])
        if rng.random() < 0.3:
            hashed += sub  # invalidates the signature
        else:
            unhashed += sub
        pk[i] = (2, join_signature(head, hashed, unhashed, rest))
        return serialize(pk)
    if r == 14:
        sigs = [i for i, (t, _) in enumerate(pk) if t == 2]
        if sigs:
            i = rng.choice(sigs)
            b = bytearray(pk[i][1])
            b[rng.choice([0, 1, 3])] = rng.choice(
                [1, 2, 3, 5, 8, 10, 11, 12, 14, 0x10, 0x13, 0x18, 0x1F, 0x20, 0x28, 0x30])
            pk[i] = (2, bytes(b))
        return serialize(pk)
    if r == 15:
        i = rng.randrange(len(pk))
        if pk[i][0] in (6, 14):
            b = bytearray(pk[i][1])
            b[rng.choice([0, 5])] = rng.choice([3, 5, 6, 1, 2, 16, 17, 18, 19, 22, 25, 27, 99])
            pk[i] = (pk[i][0], bytes(b))
        return serialize(pk)
    if r == 16:
        # go-crypto takes a leading public-subkey packet as the primary key.
        # Not for keys with several user IDs: parity_compare.py recognises
        # those (random order in Go) by their tag-6 primary only.
        i = rng.randrange(len(pk))
        if pk[i][0] in (6, 14) and len({b for t, b in pk if t == 13}) < 2:
            pk[i] = (20 - pk[i][0], pk[i][1])
        return serialize(pk)
    if r == 17:
        other = packets(rng.choice(others))
        return serialize(pk + other[1:] if rng.random() < 0.5 else other + pk)
    if r == 18:
        for j, (t, _) in enumerate(pk):
            if t == 13 and j + 1 < len(pk) and pk[j + 1][0] == 2:
                del pk[j + 1]
                break
        return serialize(pk)
    if r == 19:
        for j, (t, b) in enumerate(pk):
            if t == 2 and len(b) > 1 and b[1] == 0x28:
                pk.insert(1, pk.pop(j))
                break
        return serialize(pk)
    return bytes(rng.randrange(256) for _ in range(rng.randrange(40)))


def mutate_armor(rng, armored):
    s = armored.decode()
    r = rng.randrange(12)
    if r == 0:
        return s.replace("\n", "\r\n").encode()
    if r == 1:
        return s.replace("-----\n\n", "-----\nVersion: x\nComment: y\n\n", 1).encode()
    if r == 2:
        return s.replace("-----\n\n", "-----\n", 1).encode()
    if r == 3:
        return ("  " + s).encode()
    if r == 4:
        return "\n".join(l + "   " if rng.random() < 0.3 else l for l in s.split("\n")).encode()
    if r == 5:
        return "\n".join(l for l in s.split("\n") if not l.startswith("=")).encode()
    if r == 6:
        return (s + "\n" + s).encode()
    if r == 7:
        return (s + "\n-----END PGP stray\n").encode()
    if r == 8:
        body = "".join(l for l in s.split("\n")[2:]
                       if l and not l.startswith("=") and not l.startswith("-----"))
        n = rng.choice([60, 76, 96, 97, 99, 100, 120])
        lines = [body[i:i + n] for i in range(0, len(body), n)]
        return ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + "\n".join(lines)
                + "\n-----END PGP PUBLIC KEY BLOCK-----").encode()
    if r == 9:
        return s.replace("PUBLIC KEY", "PRIVATE KEY").encode()
    if r == 10:
        return s.replace("PUBLIC KEY", "SIGNATURE", 1).encode()
    b = bytearray(armored)
    b[rng.randrange(len(b))] = rng.choice(b"A/+= \n\t:-")
    return bytes(b)


def binary_of(key):
    """The packet bytes inside an armored key (best effort), for the gap check."""
    if not key.startswith(b"-----"):
        return key
    lines = key.replace(b"\r", b"").split(b"\n")
    body = b"".join(l.strip() for l in lines[1:]
                    if l.strip() and b":" not in l and not l.strip().startswith((b"=", b"-----")))
    try:
        return base64.b64decode(body + b"=" * (-len(body) % 4))
    except ValueError:
        return b""


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    key_dir, out_path = sys.argv[1], sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 500
    binaries = [open(f, "rb").read() for f in sorted(glob.glob(f"{key_dir}/*.gpg"))]
    armored = [open(f, "rb").read() for f in sorted(glob.glob(f"{key_dir}/*.asc"))
               if open(f, "rb").read().startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")]
    if not binaries or not armored:
        sys.exit(f"pgp_mutations.py: no *.gpg / *.asc keys in {key_dir}")
    written = 0
    with open(out_path, "w") as out:
        while written < count:
            if rng.random() < 0.75:
                key = mutate(rng, rng.choice(binaries), binaries)
                if rng.random() < 0.3:
                    key = mutate(rng, key, binaries)
            else:
                key = mutate_armor(rng, rng.choice(armored))
            if tags_seen(binary_of(key)) & GAP_TAGS:
                continue
            body = {"apiVersion": "0.0.1", "kind": "rekord", "spec": {
                "data": {"hash": {"algorithm": "sha256",
                                  "value": hashlib.sha256(key).hexdigest()}},
                "signature": {"content": "AAAA", "format": "pgp",
                              "publicKey": {"content": base64.b64encode(key).decode() or "AA=="}}}}
            line = base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
            out.write(json.dumps({"body": line}) + "\n")
            written += 1


if __name__ == "__main__":
    main()
