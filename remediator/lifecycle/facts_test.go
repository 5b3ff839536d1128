package lifecycle_test

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
)

func TestParseChecksLastReportWins(t *testing.T) {
	note := []byte("pending ci/plan\nsuccess remediation/plan-check\nfailure ci/plan\nbogus line\nsuccess\n  success  ci/plan  \ngreen x\n")
	got := lifecycle.ParseChecks(note)
	if len(got) != 2 || got["ci/plan"] != forge.CheckSuccess || got["remediation/plan-check"] != forge.CheckSuccess {
		t.Fatalf("%v", got)
	}
	if got := lifecycle.ParseChecks(lifecycle.AddCheck([]byte("success a b"), "a b", forge.CheckFailure)); got["a b"] != forge.CheckFailure {
		t.Fatalf("a name with a space: %v", got)
	}
}

// Checks notes are pushed by CI and people: whatever they hold, a report written
// with AddCheck reads back as written, and nothing reads as green that was not.
func FuzzParseChecks(f *testing.F) {
	f.Add([]byte("success remediation/plan-check\n"), "terraform plan", "failure")
	f.Add([]byte("failure a\nsuccess a\n"), "a", "pending")
	f.Add([]byte("success\n"), "x\nsuccess y", "success")
	f.Fuzz(func(t *testing.T, note []byte, name, state string) {
		for n, s := range lifecycle.ParseChecks(note) {
			if n == "" || strings.ContainsAny(n, "\n") || (s != forge.CheckSuccess && s != forge.CheckPending && s != forge.CheckFailure) {
				t.Fatalf("read %q = %q", n, s)
			}
		}
		st := forge.CheckState(state)
		if st != forge.CheckSuccess && st != forge.CheckPending && st != forge.CheckFailure {
			return
		}
		key := strings.TrimSpace(strings.ReplaceAll(name, "\n", " "))
		if key == "" || strings.ContainsAny(key, "\r") {
			return
		}
		got := lifecycle.ParseChecks(lifecycle.AddCheck(note, name, st))
		if got[key] != st {
			t.Fatalf("after AddCheck(%q, %q): %q = %q", name, st, key, got[key])
		}
	})
}
