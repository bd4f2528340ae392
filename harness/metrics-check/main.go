// Command metrics-check reads Prometheus metrics in the text exposition
// format with Prometheus' own parser (github.com/prometheus/common/expfmt)
// and prints them as JSON, so that tests check what Prometheus would read,
// not strings. It fails (exit 1) on anything the parser rejects.
//
// Usage: metrics-check FILE | URL | -
//
// Output: {"<family>": {"type": "COUNTER", "help": "...",
// "samples": [{"labels": {"k": "v"}, "value": 1}]}}.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

type sample struct {
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
}

type family struct {
	Type    string   `json:"type"`
	Help    string   `json:"help"`
	Samples []sample `json:"samples"`
}

func open(source string) (io.ReadCloser, error) {
	switch {
	case source == "-":
		return io.NopCloser(os.Stdin), nil
	case strings.HasPrefix(source, "http://"), strings.HasPrefix(source, "https://"):
		resp, err := http.Get(source)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %s", source, resp.Status)
		}
		return resp.Body, nil
	default:
		return os.Open(source)
	}
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: metrics-check FILE | URL | -")
		os.Exit(2)
	}
	in, err := open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "metrics-check:", err)
		os.Exit(1)
	}
	defer in.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "metrics-check: not valid Prometheus text format:", err)
		os.Exit(1)
	}
	out := map[string]family{}
	for name, mf := range families {
		f := family{Type: mf.GetType().String(), Help: mf.GetHelp()}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			f.Samples = append(f.Samples, sample{Labels: labels, Value: value(m)})
		}
		out[name] = f
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "metrics-check:", err)
		os.Exit(1)
	}
}
