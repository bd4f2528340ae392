// Command key-oracle runs Rekor v1.5.4's own Go code over stored entry
// bodies and prints the index keys it computes, so that rekor-backfill's
// Rust key derivation can be checked against the real thing instead of
// against a reading of the Go sources.
//
// Per entry it makes exactly the calls cmd/backfill-index (v1.5.4) makes:
// base64 StdEncoding decode, models.UnmarshalProposedEntry,
// types.UnmarshalEntry, then IndexKeys(); an IndexKeys error discards any
// keys returned with it. Keys are printed as computed (no lowercasing, no
// de-duplication), in Go's order.
//
// With -canonicalize, input lines are proposed entries (the JSON rekor-cli
// POSTs) and the output is the body the server would store for them,
// produced the way the server's createLogEntry does it
// (types.CreateVersionedEntry, then types.CanonicalizeEntry).
//
// Input: one item per line. Output: exactly one JSON object per input line,
// in input order, so outputs can be joined with inputs by line number.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/go-openapi/runtime"

	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"

	// Same blank imports as cmd/backfill-index: they register every kind
	// and version in types.TypeMap. Without them UnmarshalEntry fails.
	_ "github.com/sigstore/rekor/pkg/types/alpine/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/cose/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/helm/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/intoto/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/intoto/v0.0.2"
	_ "github.com/sigstore/rekor/pkg/types/jar/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/rekord/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/rfc3161/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/rpm/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/tuf/v0.0.1"
)

// Stages name where an entry failed, so a comparison can tell the Go
// tool's "error unmarshalling entry" class from "error building index keys".
const (
	stageInput        = "input"          // the line is not a usable input item
	stageBase64       = "base64"         // base64.StdEncoding decode of the body
	stageProposed     = "proposed_entry" // models.UnmarshalProposedEntry
	stageUnmarshal    = "unmarshal"      // types.UnmarshalEntry / CreateVersionedEntry
	stageIndexKeys    = "index_keys"     // EntryImpl.IndexKeys
	stageCanonicalize = "canonicalize"   // types.CanonicalizeEntry
	stagePanic        = "panic"          // rekor code panicked on this input
)

// result is one output line. Exactly one of Keys, Body, Error is meaningful.
type result struct {
	Keys  []string `json:"keys,omitempty"`
	Body  string   `json:"body,omitempty"`
	Error string   `json:"error,omitempty"`
	Stage string   `json:"stage,omitempty"`
	// KeysB64 carries the exact key bytes when some key is not valid
	// UTF-8, because JSON output would replace those bytes with U+FFFD.
	KeysB64 []string `json:"keys_b64,omitempty"`
}

// keysResult exists so that an empty key list prints as "keys":[] rather
// than disappearing under omitempty.
type keysResult struct {
	Keys    []string `json:"keys"`
	KeysB64 []string `json:"keys_b64,omitempty"`
}

func fail(stage string, err error) result {
	return result{Error: err.Error(), Stage: stage}
}

// bodyOf extracts the base64 body from an input line: either a JSON object
// with a string "body" field (the corpus format), or the bare base64 text.
func bodyOf(line []byte) (string, error) {
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return string(line), nil
	}
	var wrapper struct {
		Body *string `json:"body"`
	}
	if err := json.Unmarshal(trimmed, &wrapper); err != nil {
		return "", fmt.Errorf("input line is not a JSON object with a body: %w", err)
	}
	if wrapper.Body == nil {
		return "", fmt.Errorf("input line has no string \"body\" field")
	}
	return *wrapper.Body, nil
}

// indexKeys mirrors cmd/backfill-index's unmarshalEntryImpl + IndexKeys.
func indexKeys(line []byte) result {
	body, err := bodyOf(line)
	if err != nil {
		return fail(stageInput, err)
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return fail(stageBase64, err)
	}
	pe, err := models.UnmarshalProposedEntry(bytes.NewReader(b), runtime.JSONConsumer())
	if err != nil {
		return fail(stageProposed, err)
	}
	entry, err := types.UnmarshalEntry(pe)
	if err != nil {
		return fail(stageUnmarshal, err)
	}
	keys, err := entry.IndexKeys()
	if err != nil {
		return fail(stageIndexKeys, err)
	}
	if keys == nil {
		keys = []string{}
	}
	return result{Keys: keys, KeysB64: exactKeys(keys)}
}

// exactKeys returns base64 copies of all keys when any key is not valid
// UTF-8, and nil otherwise.
func exactKeys(keys []string) []string {
	for _, k := range keys {
		if !utf8.ValidString(k) {
			out := make([]string, len(keys))
			for i, k := range keys {
				out[i] = base64.StdEncoding.EncodeToString([]byte(k))
			}
			return out
		}
	}
	return nil
}

// canonicalize mirrors the server's createLogEntry up to the leaf bytes.
func canonicalize(line []byte) result {
	pe, err := models.UnmarshalProposedEntry(bytes.NewReader(line), runtime.JSONConsumer())
	if err != nil {
		return fail(stageProposed, err)
	}
	entry, err := types.CreateVersionedEntry(pe)
	if err != nil {
		return fail(stageUnmarshal, err)
	}
	leaf, err := types.CanonicalizeEntry(context.Background(), entry)
	if err != nil {
		return fail(stageCanonicalize, err)
	}
	return result{Body: base64.StdEncoding.EncodeToString(leaf)}
}

// guarded turns a panic inside rekor code into an error line, so one
// hostile input does not end the whole run.
func guarded(f func([]byte) result, line []byte) (r result) {
	defer func() {
		if p := recover(); p != nil {
			r = fail(stagePanic, fmt.Errorf("panic: %v", p))
		}
	}()
	return f(line)
}

func encode(r result) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	var v any = r
	if r.Error == "" && r.Body == "" {
		v = keysResult{Keys: r.Keys, KeysB64: r.KeysB64}
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func run(in io.Reader, out io.Writer, f func([]byte) result) error {
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriter(out)
	defer w.Flush()
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			line = bytes.TrimSuffix(line, []byte("\n"))
			encoded, encErr := encode(guarded(f, line))
			if encErr != nil {
				return fmt.Errorf("encoding output: %w", encErr)
			}
			if _, werr := w.Write(encoded); werr != nil {
				return fmt.Errorf("writing output: %w", werr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading input: %w", err)
		}
	}
}

func main() {
	canon := flag.Bool("canonicalize", false,
		"input lines are proposed entries; print the canonical stored body as {\"body\":base64}")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(),
			"usage: key-oracle [-canonicalize] < lines\n"+
				"Without flags, each line is {\"body\":base64,...} or bare base64;\n"+
				"prints {\"keys\":[...]} or {\"error\":...,\"stage\":...} per line.\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	f := indexKeys
	if *canon {
		f = canonicalize
	}
	if err := run(os.Stdin, os.Stdout, f); err != nil {
		fmt.Fprintln(os.Stderr, "key-oracle:", err)
		os.Exit(1)
	}
}
