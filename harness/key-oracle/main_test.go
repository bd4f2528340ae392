package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
)

// proposedHashedrekord signs a digest with a fresh key and returns the
// proposed entry JSON plus the two keys Rekor must derive from it.
func proposedHashedrekord(t *testing.T) (string, []string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	digest := sha256.Sum256([]byte("artifact"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	pe := map[string]any{
		"apiVersion": "0.0.1",
		"kind":       "hashedrekord",
		"spec": map[string]any{
			"data": map[string]any{"hash": map[string]any{
				"algorithm": "sha256", "value": hex.EncodeToString(digest[:])}},
			"signature": map[string]any{
				"content":   base64.StdEncoding.EncodeToString(sig),
				"publicKey": map[string]any{"content": base64.StdEncoding.EncodeToString(pubPEM)},
			},
		},
	}
	raw, err := json.Marshal(pe)
	if err != nil {
		t.Fatal(err)
	}
	keyHash := sha256.Sum256(pubPEM)
	return string(raw), []string{
		hex.EncodeToString(keyHash[:]),
		"sha256:" + hex.EncodeToString(digest[:]),
	}
}

func runLines(t *testing.T, input string, f func([]byte) result) []map[string]any {
	t.Helper()
	var out bytes.Buffer
	if err := run(strings.NewReader(input), &out, f); err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func keysOf(t *testing.T, m map[string]any) []string {
	t.Helper()
	raw, ok := m["keys"].([]any)
	if !ok {
		t.Fatalf("no keys in %v", m)
	}
	keys := make([]string, len(raw))
	for i, k := range raw {
		keys[i] = k.(string)
	}
	return keys
}

func TestCanonicalizeThenIndexKeys(t *testing.T) {
	proposed, want := proposedHashedrekord(t)
	canon := runLines(t, proposed+"\n", canonicalize)
	if len(canon) != 1 {
		t.Fatalf("want 1 line, got %d", len(canon))
	}
	body, ok := canon[0]["body"].(string)
	if !ok {
		t.Fatalf("canonicalize failed: %v", canon[0])
	}

	// Same body wrapped as in the corpus, then bare; both give the same keys.
	wrapped, _ := json.Marshal(map[string]any{"uuid": nil, "body": body, "kind": "x"})
	out := runLines(t, string(wrapped)+"\n"+body, indexKeys) // last line without \n
	if len(out) != 2 {
		t.Fatalf("want 2 lines, got %d", len(out))
	}
	for i, m := range out {
		got := keysOf(t, m)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("line %d: keys %q, want %q", i, got, want)
		}
	}
}

func TestErrorsKeepLineAlignment(t *testing.T) {
	proposed, _ := proposedHashedrekord(t)
	// A tampered digest must fail hashedrekord's signature re-verification.
	var pe map[string]any
	if err := json.Unmarshal([]byte(proposed), &pe); err != nil {
		t.Fatal(err)
	}
	pe["spec"].(map[string]any)["data"].(map[string]any)["hash"].(map[string]any)["value"] =
		strings.Repeat("00", 32)
	tampered, _ := json.Marshal(pe)
	tamperedBody := base64.StdEncoding.EncodeToString(tampered)

	input := strings.Join([]string{
		"not*base64",
		`{"body": 5}`,
		base64.StdEncoding.EncodeToString([]byte(`{"kind":"nope","apiVersion":"0.0.1","spec":{}}`)),
		tamperedBody,
		"",
	}, "\n") + "\n"
	out := runLines(t, input, indexKeys)
	wantStages := []string{stageBase64, stageInput, stageProposed, stageUnmarshal, stageProposed}
	if len(out) != len(wantStages) {
		t.Fatalf("want %d lines, got %d: %v", len(wantStages), len(out), out)
	}
	for i, stage := range wantStages {
		if out[i]["stage"] != stage || out[i]["error"] == nil {
			t.Errorf("line %d: got %v, want an error at stage %s", i, out[i], stage)
		}
	}
	if msg, _ := out[3]["error"].(string); !strings.HasPrefix(msg, "verifying signature: ") {
		t.Errorf("tampered hashedrekord: error %q, want signature verification failure", msg)
	}
}
