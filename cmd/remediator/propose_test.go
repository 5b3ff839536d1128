package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
)

// infraRepo makes the infrastructure repository next to the config, as ./infra.git.
func infraRepo(t testing.TB, cfg string) string {
	t.Helper()
	dir := filepath.Dir(cfg)
	repo := filepath.Join(dir, "infra.git")
	gittest.Run(t, "", "init", "-q", "--bare", "--initial-branch=main", repo)
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", repo, work)
	files := map[string]string{
		"envs/api-gateway.auto.tfvars": "# API gateway sizing\nreplicas      = 4 # raised in March\ninstance_type = \"m6i.large\"\n",
		"envs/api-maxed.auto.tfvars":   "replicas = 20\n",
		"envs/api-second.auto.tfvars":  "replicas = 3\n",
		".github/workflows/ci.yml":     "on: push\n",
	}
	for p, c := range files {
		full := filepath.Join(work, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", "initial infrastructure")
	gittest.Run(t, work, "push", "-q", "origin", "main")
	return repo
}

func alert(service string) string {
	return alertAt(service, time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
}

// alertAt is alert(service) that started firing at the given time.
func alertAt(service string, startsAt time.Time) string {
	return `{"version":"4","groupKey":"g","truncatedAlerts":0,"status":"firing","receiver":"remediator",
"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093",
"alerts":[{"status":"firing","labels":{"alertname":"HighLatency","service":"` + service + `","env":"prod"},
"annotations":{"value":"0.9"},"startsAt":"` + startsAt.UTC().Format(time.RFC3339) + `","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"fp-` + service + `"}]}`
}

func proposeRun(t testing.TB, cfg, anomaly string, extra ...string) (int, string, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "anomaly.json")
	if err := os.WriteFile(f, []byte(anomaly), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"propose", "--config", cfg, "--anomaly", f}, extra...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestPropose(t *testing.T) {
	cfg := publishedCatalog(t)
	infra := infraRepo(t, cfg)
	id := decision.ID("scale-out-api", "service=api-gateway")
	branch := "remediation/" + id

	// Dry run: the diff, and nothing pushed.
	code, out, errs := proposeRun(t, cfg, alert("api-gateway"), "--dry-run")
	if code != 0 {
		t.Fatalf("dry run exit %d: %s", code, errs)
	}
	for _, want := range []string{"opened: " + branch, "-replicas      = 4 # raised in March", "+replicas      = 8 # raised in March", "+++ b/.remediations/" + id + ".yaml"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if refs := gittest.Run(t, infra, "for-each-ref", "refs/heads/remediation/"); refs != "" {
		t.Fatalf("dry run pushed: %s", refs)
	}

	// The real thing: one branch, the edit, the artifact, the trailers.
	code, out, errs = proposeRun(t, cfg, alert("api-gateway"), "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res propose.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if res.Action != decision.Opened || res.ID != id || res.Branch != branch || res.Runbook != "scale-out-api" || res.Policy != "production" || res.Risk != "medium" {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(errs, "remediation_id="+id) {
		t.Errorf("logs do not carry the remediation id:\n%s", errs)
	}
	if got := gittest.Run(t, infra, "show", branch+":envs/api-gateway.auto.tfvars"); got != "# API gateway sizing\nreplicas      = 8 # raised in March\ninstance_type = \"m6i.large\"" {
		t.Fatalf("edited file:\n%s", got)
	}
	art := gittest.Run(t, infra, "show", branch+":.remediations/"+id+".yaml")
	for _, want := range []string{"runbook: scale-out-api", "policy: production", "fingerprint: fp-api-gateway", "from: \"4\"", "to: \"8\""} {
		if !strings.Contains(art, want) {
			t.Errorf("artifact lacks %q:\n%s", want, art)
		}
	}
	trailers := gittest.Run(t, infra, "log", "-1", "--format=%(trailers:only,unfold)", branch)
	for _, want := range []string{"Remediation-Id: " + id, "Runbook: scale-out-api", "Policy: production", "Risk: medium", "Anomaly-Fingerprint: fp-api-gateway", "Runbook-Version: "} {
		if !strings.Contains(trailers, want) {
			t.Errorf("trailers lack %q:\n%s", want, trailers)
		}
	}
	if parent := gittest.Run(t, infra, "rev-parse", branch+"~1"); parent != gittest.Run(t, infra, "rev-parse", "main") {
		t.Fatal("proposal is not based on main")
	}

	// The same anomaly again: no second proposal.
	code, out, _ = proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.HasPrefix(out, "updated: "+branch) {
		t.Fatalf("repeat: exit %d: %s", code, out)
	}
	if n := len(strings.Split(gittest.Run(t, infra, "for-each-ref", "--format=%(refname)", "refs/heads/remediation/"), "\n")); n != 1 {
		t.Fatalf("%d proposal branches, want 1", n)
	}
	// And again: each repeat is counted in Git, on the proposal's head.
	code, out, _ = proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.Contains(out, "recurrence 2 counted") {
		t.Fatalf("second repeat: exit %d: %s", code, out)
	}
	if note := gittest.Run(t, infra, "notes", "--ref=remediation-recurrences", "show", branch); !strings.Contains(note, "count: 2\n") {
		t.Fatalf("recurrence note:\n%s", note)
	}

	// Already in place: nothing opened, and it says so.
	code, out, _ = proposeRun(t, cfg, alert("api-maxed"))
	if code != 0 || !strings.HasPrefix(out, "unchanged: ") {
		t.Fatalf("in place: exit %d: %s", code, out)
	}

	// No runbook for it: exit 0, no-match.
	code, out, _ = proposeRun(t, cfg, strings.Replace(alert("api-gateway"), "HighLatency", "DiskFull", 1))
	if code != 0 || !strings.HasPrefix(out, "no-match: ") {
		t.Fatalf("no match: exit %d: %s", code, out)
	}
}

func TestProposeBadInput(t *testing.T) {
	cfg := publishedCatalog(t)
	infra := infraRepo(t, cfg)
	cases := []struct{ name, anomaly, want string }{
		{"path traversal through a label", alert("api-../../../etc/x"), "leaves the repository"},
		{"missing file", alert("api-unknown"), "no such file"},
		{"malformed JSON", `{"version": "4", `, "malformed JSON"},
		{"wrong version", strings.Replace(alert("api-gateway"), `"version":"4"`, `"version":"3"`, 1), "unsupported webhook version"},
		{"unknown field", strings.Replace(alert("api-gateway"), `"receiver"`, `"tenant":"x","receiver"`, 1), "tenant: unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := proposeRun(t, cfg, tc.anomaly)
			if code != 2 || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, tc.want, errs)
			}
		})
	}
	if refs := gittest.Run(t, infra, "for-each-ref", "refs/heads/remediation/"); refs != "" {
		t.Fatalf("bad input pushed a branch: %s", refs)
	}
}

// A runbook path that is a symlink edits the file it points to and keeps the link;
// a symlink into a protected path is refused.
func TestProposeThroughSymlinks(t *testing.T) {
	cfg := publishedCatalog(t)
	infra := infraRepo(t, cfg)
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", infra, work)
	if err := os.Symlink("api-gateway.auto.tfvars", filepath.Join(work, "envs", "api-alias.auto.tfvars")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../.github/workflows/ci.yml", filepath.Join(work, "envs", "api-sneaky.auto.tfvars")); err != nil {
		t.Fatal(err)
	}
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", "aliases")
	gittest.Run(t, work, "push", "-q", "origin", "main")

	code, out, errs := proposeRun(t, cfg, alert("api-alias"))
	if code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	branch := "remediation/" + decision.ID("scale-out-api", "service=api-alias")
	if mode := gittest.Run(t, infra, "ls-tree", branch, "envs/api-alias.auto.tfvars"); !strings.HasPrefix(mode, "120000 ") {
		t.Fatalf("the symlink became %q", mode)
	}
	if got := gittest.Run(t, infra, "show", branch+":envs/api-gateway.auto.tfvars"); !strings.Contains(got, "replicas      = 8") {
		t.Fatalf("target not edited:\n%s", got)
	}

	code, _, errs = proposeRun(t, cfg, alert("api-sneaky"))
	if code != 2 || !strings.Contains(errs, "resolves through a symlink to .github/workflows/ci.yml") {
		t.Fatalf("symlink into .github: exit %d: %s", code, errs)
	}
}
