package records_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// On the local forge a check report counts only when CI signed it, with a key the
// allowed-signers file lists for a principal of forge.check_reporters, for this
// commit; the last counted report of a name wins. Tried as someone with push
// access would: "success terraform-apply" written by hand, a report signed by a
// reviewer, one signed for another commit or edited after signing count for nothing.
func TestCheckReportsCountOnlyWhenCISignedThem(t *testing.T) {
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	k, as := keys(t, []string{"ci", "alice", "mallory"}, map[string]string{"ci": "ci@example.com", "alice": "alice@example.com"})
	trust := records.CheckTrust{Signers: as, Reporters: []string{"ci@example.com"}}
	report := func(key, by, c, name string, state forge.CheckState) []byte {
		r, err := records.SignCheck(k[key], c, name, state, by, at)
		if err != nil {
			t.Fatal(err)
		}
		return r.Entry()
	}
	reportAt := func(key, by, name string, state forge.CheckState, when time.Time) []byte {
		r, err := records.SignCheck(k[key], commit, name, state, by, when)
		if err != nil {
			t.Fatal(err)
		}
		return r.Entry()
	}
	other := strings.Repeat("f", 40)
	cases := []struct {
		name    string
		note    string
		want    forge.CheckState
		ignored string
	}{
		{"signed by CI", string(report("ci", "ci@example.com", commit, "terraform-apply", forge.CheckSuccess)), forge.CheckSuccess, ""},
		{"written by hand", "success terraform-apply\n", "", "unsigned report"},
		{"signed by a reviewer", string(report("alice", "alice@example.com", commit, "terraform-apply", forge.CheckSuccess)), "",
			"reported by alice@example.com, who is not in forge.check_reporters"},
		{"signed by an unknown key in CI's name", string(report("mallory", "ci@example.com", commit, "terraform-apply", forge.CheckSuccess)), "", "a key not in"},
		{"signed for another commit", string(report("ci", "ci@example.com", other, "terraform-apply", forge.CheckSuccess)), "", "does not verify"},
		{"failure turned into success", strings.Replace(string(report("ci", "ci@example.com", commit, "terraform-apply", forge.CheckFailure)), "failure", "success", 1), "", "does not verify"},
		{"the newest signed report wins, whatever the note's order", string(reportAt("ci", "ci@example.com", "terraform-apply", forge.CheckSuccess, at.Add(-time.Hour))) +
			string(reportAt("ci", "ci@example.com", "terraform-apply", forge.CheckFailure, at)) +
			string(reportAt("ci", "ci@example.com", "terraform-apply", forge.CheckSuccess, at.Add(-2*time.Hour))) + "success terraform-apply\n", forge.CheckFailure, "unsigned report"},
		{"a later success replaces a failure", string(reportAt("ci", "ci@example.com", "terraform-apply", forge.CheckSuccess, at.Add(time.Hour))) +
			string(reportAt("ci", "ci@example.com", "terraform-apply", forge.CheckFailure, at)), forge.CheckSuccess, ""},
		{"a tie in signed time goes to the worse state", string(report("ci", "ci@example.com", commit, "terraform-apply", forge.CheckFailure)) +
			string(report("ci", "ci@example.com", commit, "terraform-apply", forge.CheckSuccess)), forge.CheckFailure, ""},
		{"a re-run green in the same second as the failure is newer", string(reportAt("ci", "ci@example.com", "terraform-apply", forge.CheckSuccess, at.Add(400*time.Millisecond))) +
			string(reportAt("ci", "ci@example.com", "terraform-apply", forge.CheckFailure, at.Add(100*time.Millisecond))), forge.CheckSuccess, ""},
		{"a report written with whole seconds still counts", string(report("ci", "ci@example.com", commit, "terraform-apply", forge.CheckSuccess)), forge.CheckSuccess, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			states, ignored := trust.Count(commit, records.ParseChecks([]byte(c.note)))
			if states["terraform-apply"] != c.want {
				t.Errorf("state %q, want %q (ignored %v)", states["terraform-apply"], c.want, ignored)
			}
			if c.ignored != "" && !strings.Contains(strings.Join(ignored, "; "), c.ignored) {
				t.Errorf("ignored %v, want it to say %q", ignored, c.ignored)
			}
		})
	}
	t.Run("nobody is a reporter", func(t *testing.T) {
		states, _ := records.CheckTrust{Signers: as}.Count(commit, records.ParseChecks(report("ci", "ci@example.com", commit, "terraform-apply", forge.CheckSuccess)))
		if len(states) != 0 {
			t.Errorf("counted without forge.check_reporters: %v", states)
		}
	})
}

// Checks notes are pushed by CI and people: whatever they hold, reading never
// fails nor yields a state or name that cannot be, a report appended reads back as
// written, and nothing unsigned is ever counted.
func FuzzParseChecks(f *testing.F) {
	f.Add([]byte("success remediation/plan-check\n"), "terraform plan", "failure", "ci")
	f.Add([]byte("failure a\nsuccess a by ci at 2026-11-30T10:00:00Z\n-----BEGIN SSH SIGNATURE-----\n"), "a", "pending", "ci@x")
	f.Add([]byte("success\n"), "x\nsuccess y", "success", "")
	f.Add([]byte("success a by b at c\n"), "a by b", "success", "b")
	f.Fuzz(func(t *testing.T, note []byte, name, state, by string) {
		reports := records.ParseChecks(note)
		for _, r := range reports {
			if r.Name == "" || strings.ContainsAny(r.Name, "\n") || (r.State != forge.CheckSuccess && r.State != forge.CheckPending && r.State != forge.CheckFailure) {
				t.Fatalf("read %+v", r)
			}
		}
		if states, _ := (records.CheckTrust{Reporters: []string{by}}).Count(commit, reports); len(states) != 0 {
			t.Fatalf("counted without a signature check: %v", states)
		}
		st := forge.CheckState(state)
		key := strings.TrimSpace(strings.ReplaceAll(name, "\n", " "))
		if (st != forge.CheckSuccess && st != forge.CheckPending && st != forge.CheckFailure) || key == "" || strings.ContainsAny(key, "\r") {
			return
		}
		got := records.ParseChecks(records.AddCheck(note, records.CheckReport{Name: name, State: st}))
		if last := got[len(got)-1]; last.Name != key || last.State != st || last.Signature != nil {
			t.Fatalf("after AddCheck(%q, %q): %+v", name, st, last)
		}
	})
}
