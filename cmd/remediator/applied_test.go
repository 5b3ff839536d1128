package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// The apply example runs `remediator applied` with flags it has.
func TestApplyExampleUsesRealFlags(t *testing.T) {
	data, err := os.ReadFile("../../examples/ci/apply.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "remediator applied ")
	if !ok {
		t.Fatal("the example runs no remediator applied")
	}
	line, _, _ := strings.Cut(rest, "\n")
	cmd := newAppliedCommand()
	var used []string
	for _, field := range strings.Fields(line) {
		if name, ok := strings.CutPrefix(field, "--"); ok {
			if cmd.Flags().Lookup(name) == nil {
				t.Errorf("the example passes --%s, which applied does not have", name)
			}
			used = append(used, name)
		}
	}
	if strings.Join(used, " ") != "config sha" || !strings.Contains(string(data), `failed="--failed"`) || cmd.Flags().Lookup("failed") == nil {
		t.Errorf("flags used: %v", used)
	}
}

// `applied` reports on a remediation's merge only (or the check named), and refuses
// a commit that is not there.
func TestAppliedCommand(t *testing.T) {
	cfg := publishedCatalog(t)
	infra := infraRepo(t, cfg)
	head := gittest.Run(t, infra, "rev-parse", "main")
	if code, out, errs := cli(t, "applied", "--config", cfg, "--sha", head, "--key", keyOf(cfg, "ci")); code != 0 || !strings.Contains(out, "is not a remediation's merge: nothing to report") {
		t.Fatalf("a plain commit: %d %s %s", code, out, errs)
	}
	if _, err := gittest.Output(infra, "notes", "--ref="+records.ChecksRef, "show", head); err == nil {
		t.Fatal("a plain commit got a checks note")
	}
	if code, out, errs := cli(t, "applied", "--config", cfg, "--sha", head, "--check", "deploy", "--failed", "--key", keyOf(cfg, "ci")); code != 0 || !strings.Contains(out, "failure deploy on "+head[:12]) {
		t.Fatalf("--check: %d %s %s", code, out, errs)
	}
	note := gittest.Run(t, infra, "notes", "--ref="+records.ChecksRef, "show", head)
	if !strings.HasPrefix(note, "failure deploy by ci@example.com at ") || !strings.Contains(note, "BEGIN SSH SIGNATURE") {
		t.Fatalf("checks note %q", note)
	}
	for _, sha := range []string{"main", strings.Repeat("0", 40)} {
		if code, _, errs := cli(t, "applied", "--config", cfg, "--sha", sha, "--key", keyOf(cfg, "ci")); code != 2 || !strings.Contains(errs, "--sha") {
			t.Errorf("--sha %s: exit %d %s", sha, code, errs)
		}
	}
	// A report the remediator would not count is refused before anything is written.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--key is required on the local forge"},
		{[]string{"--key", keyOf(cfg, "alice")}, "signs as alice@example.com, who is not in forge.check_reporters"},
		{[]string{"--key", keyOf(cfg, "mallory")}, "is not listed in"},
	} {
		args := append([]string{"applied", "--config", cfg, "--sha", head, "--check", "deploy"}, tc.args...)
		if code, _, errs := cli(t, args...); code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %s", tc.args, code, errs)
		}
	}
	if after := gittest.Run(t, infra, "notes", "--ref="+records.ChecksRef, "show", head); after != note {
		t.Errorf("a refused report was written:\n%s", after)
	}
}
