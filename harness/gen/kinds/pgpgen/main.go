// Command pgpgen makes OpenPGP keys that GnuPG 2.2 cannot: v6 keys (RFC
// 9580: direct-key signatures, salted signatures, 4-byte lengths), native
// Ed25519/Ed448 keys, brainpoolP512r1, SHA-224 and SHA3 self-signatures.
// It uses ProtonMail go-crypto v1.4.1, the library Rekor v1.5.4 parses PGP
// keys with, and prints one proposed rekord entry per key (the JSON
// rekor-cli POSTs), signed over a fixed artifact; labels go to stderr.
package main

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

type userID struct{ name, email string }

type variant struct {
	label string
	cfg   *packet.Config
	uids  []userID
}

func main() {
	artifact := []byte("rekor-backfill pgpgen artifact\n")
	variants := []variant{
		{"v6 Ed25519", &packet.Config{V6Keys: true, Algorithm: packet.PubKeyAlgoEd25519, DefaultHash: crypto.SHA256},
			[]userID{{"V6 Ed", "v6ed@example.com"}}},
		{"v6 Ed448", &packet.Config{V6Keys: true, Algorithm: packet.PubKeyAlgoEd448, DefaultHash: crypto.SHA512},
			[]userID{{"V6 Ed448", "v6ed448@example.com"}}},
		{"v6 RSA, two user IDs", &packet.Config{V6Keys: true, Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048, DefaultHash: crypto.SHA384},
			[]userID{{"V6 RSA", "v6rsa@example.com"}, {"Second", "Second@Example.com"}}},
		{"v6 ECDSA P-256", &packet.Config{V6Keys: true, Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveNistP256},
			[]userID{{"V6 P256", "v6p256@example.com"}}},
		{"v4 native Ed25519", &packet.Config{Algorithm: packet.PubKeyAlgoEd25519},
			[]userID{{"V4 Native", "v4native@example.com"}}},
		{"v4 native Ed448", &packet.Config{Algorithm: packet.PubKeyAlgoEd448},
			[]userID{{"V4 Ed448", "v4ed448@example.com"}}},
		{"v4 brainpoolP512r1", &packet.Config{Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveBrainpoolP512},
			[]userID{{"BP512", "bp512@example.com"}}},
		{"v4 RSA, SHA3-256", &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048, DefaultHash: crypto.SHA3_256},
			[]userID{{"SHA3", "sha3@example.com"}}},
		{"v4 RSA, SHA-224", &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048, DefaultHash: crypto.SHA224},
			[]userID{{"SHA224", "sha224@example.com"}}},
	}
	failed := false
	for _, v := range variants {
		line, err := entry(v, artifact)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pgpgen: %s: %v\n", v.label, err)
			failed = true
			continue
		}
		fmt.Println(line)
		fmt.Fprintln(os.Stderr, v.label)
	}
	if failed {
		os.Exit(1)
	}
}

func entry(v variant, artifact []byte) (string, error) {
	e, err := openpgp.NewEntity(v.uids[0].name, "", v.uids[0].email, v.cfg)
	if err != nil {
		return "", err
	}
	for _, u := range v.uids[1:] {
		if err := e.AddUserId(u.name, "", u.email, v.cfg); err != nil {
			return "", err
		}
	}
	var key bytes.Buffer
	w, err := armor.Encode(&key, openpgp.PublicKeyType, nil)
	if err != nil {
		return "", err
	}
	if err := e.Serialize(w); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, e, bytes.NewReader(artifact), v.cfg); err != nil {
		return "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	line, err := json.Marshal(map[string]any{"apiVersion": "0.0.1", "kind": "rekord", "spec": map[string]any{
		"signature": map[string]any{"format": "pgp", "content": b64(sig.Bytes()),
			"publicKey": map[string]any{"content": b64(key.Bytes())}},
		"data": map[string]any{"content": b64(artifact)}}})
	return string(line), err
}
