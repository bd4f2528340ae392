// Command k8s-manifests reads the Kubernetes manifests of deploy/kubernetes
// the way the API server would: each YAML document strictly decoded into its
// k8s.io/api type, unknown or duplicate fields rejected. The tests
// (manifests_test.go) check what the README promises about them;
// `k8s-manifests args FILE [NAME=VALUE...]` prints the container's
// arguments, one per line, with $(VAR) expanded as the kubelet does from the
// container's literal env values (NAME=VALUE overrides or adds one, as a
// `kubectl set env` would), so a local simulation runs exactly the
// manifest's command.
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Manifest is one decoded YAML document of a manifest file.
type Manifest struct {
	File string
	Kind string
	Obj  any
}

// Load strictly decodes every document of a YAML file.
func Load(path string) ([]Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Manifest
	for i, doc := range splitDocuments(data) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("%s document %d: %w", path, i, err)
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "batch/v1 CronJob":
			obj = &batchv1.CronJob{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "v1 Secret":
			obj = &corev1.Secret{}
		default:
			return nil, fmt.Errorf("%s document %d: unexpected %q %q", path, i, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("%s document %d (%s): %w", path, i, meta.Kind, err)
		}
		out = append(out, Manifest{File: path, Kind: meta.Kind, Obj: obj})
	}
	return out, nil
}

func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) != "" {
			docs = append(docs, []byte(doc))
		}
	}
	return docs
}

func stripComments(doc string) string {
	var b bytes.Buffer
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// PodSpec returns the pod template of a CronJob or a Job.
func PodSpec(m Manifest) *corev1.PodSpec {
	switch obj := m.Obj.(type) {
	case *batchv1.CronJob:
		return &obj.Spec.JobTemplate.Spec.Template.Spec
	case *batchv1.Job:
		return &obj.Spec.Template.Spec
	}
	return nil
}

// JobSpec returns the Job spec of a CronJob or a Job.
func JobSpec(m Manifest) *batchv1.JobSpec {
	switch obj := m.Obj.(type) {
	case *batchv1.CronJob:
		return &obj.Spec.JobTemplate.Spec
	case *batchv1.Job:
		return &obj.Spec
	}
	return nil
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// ExpandArgs expands $(VAR) in a container's args from its literal env
// values (and from extra, for variables the Job controller injects), the
// way the kubelet does: an undefined reference stays as it is, $$ is $.
func ExpandArgs(c corev1.Container, extra map[string]string) []string {
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	out := make([]string, len(c.Args))
	for i, arg := range c.Args {
		out[i] = varRef.ReplaceAllStringFunc(arg, func(ref string) string {
			if ref == "$$" {
				return "$"
			}
			if v, ok := env[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
	}
	return out
}

func main() {
	if len(os.Args) < 3 || os.Args[1] != "args" {
		fmt.Fprintln(os.Stderr, "usage: k8s-manifests args FILE [NAME=VALUE...]")
		os.Exit(2)
	}
	set := map[string]string{}
	for _, kv := range os.Args[3:] {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "%q: want NAME=VALUE\n", kv)
			os.Exit(2)
		}
		set[name] = value
	}
	manifests, err := Load(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, m := range manifests {
		if spec := PodSpec(m); spec != nil {
			for _, arg := range ExpandArgs(spec.Containers[0], set) {
				fmt.Println(arg)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "%s: no CronJob or Job\n", os.Args[2])
	os.Exit(1)
}
