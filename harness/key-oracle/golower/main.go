// Command golower applies Go's strings.ToLower to each line of its input,
// so that rekor-backfill's port (src/pki/gostr.rs, to_lower) can be checked
// against the Go toolchain itself rather than against a table copied from
// it: Rekor lowercases every hash key with strings.ToLower, and its Redis
// index lowercases every key it stores and looks up.
//
// Input: UTF-8 text, lines ending in "\n". Output: one line per input line.
// Its own module without dependencies, so `go run .` needs no network.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unicode"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(os.Stderr, "golower: Go %s, Unicode %s\n", runtime.Version(), unicode.Version)
	for in.Scan() {
		out.WriteString(strings.ToLower(in.Text()))
		out.WriteByte('\n')
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "golower:", err)
		os.Exit(1)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "golower:", err)
		os.Exit(1)
	}
}
