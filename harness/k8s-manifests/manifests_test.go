package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

const deployDir = "../../deploy/kubernetes"

// The exit statuses of README.md, "Exit statuses"; 0 is success.
var documentedFailures = []int32{1, 2, 3, 4, 5, 130, 143}

// The image's non-root user (harness/image/build.sh).
const imageUID = 65532

func loadAll(t *testing.T) []Manifest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s (%v)", deployDir, err)
	}
	var all []Manifest
	for _, f := range files {
		ms, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ms...)
	}
	return all
}

func only(t *testing.T, kind string, pred func(Manifest) bool) Manifest {
	t.Helper()
	var found []Manifest
	for _, m := range loadAll(t) {
		if m.Kind == kind && pred(m) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s, found %d", kind, len(found))
	}
	return found[0]
}

func cronJob(t *testing.T) Manifest {
	return only(t, "CronJob", func(Manifest) bool { return true })
}

func indexedJob(t *testing.T) Manifest {
	return only(t, "Job", func(m Manifest) bool {
		mode := m.Obj.(*batchv1.Job).Spec.CompletionMode
		return mode != nil && *mode == batchv1.IndexedCompletion
	})
}

func TestStrictDecodingRejectsUnknownAndDuplicateFields(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(deployDir, "cronjob.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, bad := range map[string]string{
		"unknown field":   strings.Replace(string(good), "concurrencyPolicy:", "concurencyPolicy:", 1),
		"misplaced field": strings.Replace(string(good), "  schedule:", "  backoffLimit: 1\n  schedule:", 1),
		"wrong type":      strings.Replace(string(good), "startingDeadlineSeconds: 600", "startingDeadlineSeconds: soon", 1),
		"duplicate":       strings.Replace(string(good), "  schedule:", "  timeZone: UTC\n  schedule:", 1),
	} {
		if bad == string(good) {
			t.Fatalf("%s: the edit did not apply", name)
		}
		path := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCronJobIsIncrementalAndNeverOverlaps(t *testing.T) {
	cj := cronJob(t).Obj.(*batchv1.CronJob)
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("concurrencyPolicy %q, want Forbid", cj.Spec.ConcurrencyPolicy)
	}
	if d := cj.Spec.StartingDeadlineSeconds; d == nil || *d <= 0 {
		t.Error("startingDeadlineSeconds unset")
	}
	if cj.Spec.SuccessfulJobsHistoryLimit == nil || cj.Spec.FailedJobsHistoryLimit == nil {
		t.Error("history limits unset")
	}
	args := ExpandArgs(PodSpec(cronJob(t)).Containers[0], nil)
	for _, flag := range []string{"--end", "--shard-count", "--shard-index", "--reset-checkpoint", "--dry-run"} {
		if hasFlag(args, flag) {
			t.Errorf("incremental CronJob passes %s", flag)
		}
	}
}

func TestIndexedJobShardsByCompletionIndex(t *testing.T) {
	m := indexedJob(t)
	job := m.Obj.(*batchv1.Job).Spec
	if job.Completions == nil || job.Parallelism == nil || *job.Parallelism > *job.Completions {
		t.Fatal("completions and parallelism must be set, parallelism <= completions")
	}
	args := ExpandArgs(PodSpec(m).Containers[0], nil)
	count, ok := flagValue(args, "--shard-count")
	if !ok || count != strconv.Itoa(int(*job.Completions)) {
		t.Errorf("--shard-count %q, want completions %d", count, *job.Completions)
	}
	if hasFlag(args, "--shard-index") {
		t.Error("--shard-index must come from JOB_COMPLETION_INDEX, not be fixed")
	}
	for _, flag := range []string{"--start", "--end"} {
		v, ok := flagValue(args, flag)
		if _, err := strconv.ParseUint(v, 10, 64); !ok || err != nil {
			t.Errorf("%s %q: every shard must split the same explicit range", flag, v)
		}
	}
	if job.BackoffLimitPerIndex == nil {
		t.Error("backoffLimitPerIndex unset: a failing shard would use up the others' retries")
	}
}

func TestFailurePolicyFollowsTheExitStatuses(t *testing.T) {
	for _, m := range []Manifest{cronJob(t), indexedJob(t)} {
		job := JobSpec(m)
		if PodSpec(m).RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("%s: podFailurePolicy needs restartPolicy Never", m.File)
		}
		if job.PodFailurePolicy == nil {
			t.Fatalf("%s: no podFailurePolicy", m.File)
		}
		action := map[int32]batchv1.PodFailurePolicyAction{}
		disruptionIgnored := false
		for _, rule := range job.PodFailurePolicy.Rules {
			if rule.OnExitCodes == nil {
				for _, c := range rule.OnPodConditions {
					disruptionIgnored = disruptionIgnored ||
						(c.Type == corev1.DisruptionTarget && rule.Action == batchv1.PodFailurePolicyActionIgnore)
				}
				continue
			}
			if rule.OnExitCodes.ContainerName == nil || *rule.OnExitCodes.ContainerName != PodSpec(m).Containers[0].Name {
				t.Errorf("%s: a rule names no or another container", m.File)
			}
			if rule.OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn {
				t.Errorf("%s: rules list the statuses they mean (operator In)", m.File)
			}
			for _, code := range rule.OnExitCodes.Values {
				if !slices.Contains(documentedFailures, code) {
					t.Errorf("%s: status %d is not in the documented table", m.File, code)
				}
				if _, dup := action[code]; dup {
					t.Errorf("%s: status %d in two rules", m.File, code)
				}
				action[code] = rule.Action
			}
		}
		for _, code := range documentedFailures {
			if _, ok := action[code]; !ok {
				t.Errorf("%s: status %d has no rule", m.File, code)
			}
		}
		// 4 is retried: a replaced pod meets the lease of the one it
		// replaces until that expires (30 s).
		want := map[int32]batchv1.PodFailurePolicyAction{
			1: batchv1.PodFailurePolicyActionCount, 2: batchv1.PodFailurePolicyActionFailJob,
			4:   batchv1.PodFailurePolicyActionCount,
			130: batchv1.PodFailurePolicyActionIgnore, 143: batchv1.PodFailurePolicyActionIgnore,
		}
		for code, a := range want {
			if action[code] != a {
				t.Errorf("%s: status %d → %s, want %s", m.File, code, action[code], a)
			}
		}
		for _, code := range []int32{3, 5} {
			if a := action[code]; a != batchv1.PodFailurePolicyActionFailJob && a != batchv1.PodFailurePolicyActionFailIndex {
				t.Errorf("%s: status %d → %s: a retry cannot fix it", m.File, code, a)
			}
		}
		if !disruptionIgnored {
			t.Errorf("%s: evictions (DisruptionTarget) should not count as failures", m.File)
		}
	}
}

// Pod Security Standards, "restricted" profile, plus the image's user.
func TestPodsAreRestricted(t *testing.T) {
	for _, m := range []Manifest{cronJob(t), indexedJob(t)} {
		pod := PodSpec(m)
		psc := pod.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
			psc.RunAsUser == nil || *psc.RunAsUser != imageUID ||
			psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod securityContext: runAsNonRoot, runAsUser %d, seccomp RuntimeDefault", m.File, imageUID)
		}
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("%s: the tool needs no API token", m.File)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%s: one container", m.File)
		}
		c := pod.Containers[0]
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
			len(sc.Capabilities.Add) != 0 || sc.Privileged != nil && *sc.Privileged ||
			sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: container securityContext is not restricted", m.File)
		}
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, lim := c.Resources.Requests[res], c.Resources.Limits[res]
			if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
				t.Errorf("%s: %s request and limit (request <= limit)", m.File, res)
			}
		}
		if lim := c.Resources.Limits[corev1.ResourceMemory]; lim.Cmp(resource.MustParse("32Mi")) < 0 {
			t.Errorf("%s: memory limit %s is below the tool's peak RSS", m.File, lim.String())
		}
	}
}

func TestSecretsOnlyFromSecretKeyRef(t *testing.T) {
	for _, m := range []Manifest{cronJob(t), indexedJob(t)} {
		c := PodSpec(m).Containers[0]
		backends := 0
		for _, e := range c.Env {
			switch e.Name {
			case "REDIS_PASSWORD", "MYSQL_DSN":
				backends++
				if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					t.Errorf("%s: %s must come from a secretKeyRef", m.File, e.Name)
				}
			}
		}
		if backends != 1 {
			t.Errorf("%s: want exactly one of REDIS_PASSWORD, MYSQL_DSN from a Secret", m.File)
		}
		for _, arg := range append(slices.Clone(c.Command), c.Args...) {
			for _, secret := range []string{"--redis-password", "--password", "--mysql-dsn", "--rekor-header"} {
				if arg == secret || strings.HasPrefix(arg, secret+"=") {
					t.Errorf("%s: %s on the command line (visible in the pod spec)", m.File, secret)
				}
			}
		}
	}
}

func TestExpandArgsLikeTheKubelet(t *testing.T) {
	c := corev1.Container{
		Args: []string{"--end=$(END)", "$(MISSING)", "$$(END)", "--x=$(SECRET)"},
		Env: []corev1.EnvVar{{Name: "END", Value: "41"},
			{Name: "SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}}},
	}
	got := ExpandArgs(c, map[string]string{"MISSING": "7"})
	want := []string{"--end=41", "7", "$(END)", "--x=$(SECRET)"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func hasFlag(args []string, flag string) bool {
	_, ok := flagValue(args, flag)
	return ok
}

func flagValue(args []string, flag string) (string, bool) {
	for i, arg := range args {
		if arg == flag {
			if i+1 < len(args) {
				return args[i+1], true
			}
			return "", true
		}
		if v, ok := strings.CutPrefix(arg, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}
