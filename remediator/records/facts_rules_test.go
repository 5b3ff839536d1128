package records_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// A check report counts only when signed, by a principal of forge.check_reporters,
// with a key the allowed-signers file lists for it, for this very commit; the last
// counted report of a name wins.
func TestRuleCheckReportsCountOnlyFromListedReporters(t *testing.T) {
	ci, as := rulesReviewers(t, "ci")
	sign := func(name string, state forge.CheckState, by string, commit string, later ...time.Duration) records.CheckReport {
		at := rulesNow
		for _, d := range later {
			at = at.Add(d)
		}
		r, err := records.SignCheck(ci, commit, name, state, by, at)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tr := records.CheckTrust{Signers: as, Reporters: []string{"robot", "CI"}}
	reports := []records.CheckReport{
		sign("plan", forge.CheckPending, "ci", rulesCommit),
		sign("plan", forge.CheckSuccess, "ci", rulesCommit, time.Minute), // the newer report of plan wins
		sign("apply", forge.CheckSuccess, "ci", rulesOtherCommit),
		{Name: "lint", State: forge.CheckSuccess},
		sign("scan", forge.CheckSuccess, "mallory", rulesCommit),
	}
	states, ignored := tr.Count(rulesCommit, reports)
	if len(states) != 1 || states["plan"] != forge.CheckSuccess {
		t.Fatalf("states %v (ignored %q)", states, ignored)
	}
	why := strings.Join(ignored, "; ")
	for _, w := range []string{"apply: signature does not verify", "lint: unsigned report", "scan: reported by mallory, who is not in forge.check_reporters"} {
		if !strings.Contains(why, w) {
			t.Errorf("ignored %q lacks %q", why, w)
		}
	}
	if states, ignored := (records.CheckTrust{Reporters: []string{"ci"}}).Count(rulesCommit, reports[:1]); len(states) != 0 || !strings.Contains(ignored[0], "no allowed-signers file") {
		t.Fatalf("without an allowed-signers file: %v %q", states, ignored)
	}
	if !tr.Reports("ROBOT") || tr.Reports("rob") || tr.Reports("") {
		t.Fatal("reporters are matched whole, case folded")
	}
}

func TestRuleChecksNoteIsUntrustedText(t *testing.T) {
	ci, _ := rulesReviewers(t, "ci")
	signed, err := records.SignCheck(ci, rulesCommit, "plan check", forge.CheckSuccess, "ci", rulesNow)
	if err != nil {
		t.Fatal(err)
	}
	entry := string(signed.Entry())
	lines := strings.Split(strings.TrimSuffix(entry, "\n"), "\n")
	truncated := strings.Join(lines[:len(lines)-1], "\n") // no END line
	note := "garbage\nsuccess\nfailure  \npending lint\n" + entry + truncated + "\nfailure apply by ci at 2026-06-01T12:00:00Z\n" +
		"success odd by two words at 2026-06-01T12:00:00Z\nsuccess named at by at at not-a-time\n"
	got := records.ParseChecks([]byte(note))
	var b strings.Builder
	for _, r := range got {
		b.WriteString(string(r.State) + "|" + r.Name + "|" + r.By + "|" + map[bool]string{true: "sig", false: "-"}[r.Signature != nil] + "\n")
	}
	want := "pending|lint||-\nsuccess|plan check|ci|sig\nsuccess|plan check|ci|-\nfailure|apply|ci|-\n" +
		"success|odd by two words at 2026-06-01T12:00:00Z||-\nsuccess|named at by at at not-a-time||-\n"
	if b.String() != want {
		t.Fatalf("parsed:\n%s\nwant:\n%s", b.String(), want)
	}
	if got[1].At != rulesNow {
		t.Fatalf("reported at %v", got[1].At)
	}
	if _, err := records.SignCheck(ci, rulesCommit, "two\nlines", forge.CheckSuccess, "ci", rulesNow); err == nil {
		t.Fatal("a check name of two lines was signed")
	}
	if _, err := records.SignCheck(ci, rulesCommit, "plan", forge.CheckSuccess, "c i", rulesNow); err == nil {
		t.Fatal("a reporter of two words was signed")
	}
	if n := string(records.AddCheck([]byte("pending lint"), records.CheckReport{Name: "a\nb", State: forge.CheckFailure})); n != "pending lint\nfailure a b\n" {
		t.Fatalf("AddCheck: %q", n)
	}
}

// A checks note may end anywhere (anyone with push access writes it): on a report's
// header, or inside a signature block that never ends. Nothing panics, and what is
// cut off is unsigned. A signature block after a report that names no reporter is
// nobody's signature.
func TestRuleChecksNoteEndsAnywhere(t *testing.T) {
	ci, _ := rulesReviewers(t, "ci")
	signed, err := records.SignCheck(ci, rulesCommit, "plan", forge.CheckSuccess, "ci", rulesNow)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(signed.Entry()), "\n"), "\n")
	header, block := lines[0], lines[1:]
	for name, tc := range map[string]struct {
		note, want string
	}{
		"ends on a header":                 {header, "plan|ci|-"},
		"ends inside the signature":        {strings.Join(lines[:len(lines)-1], "\n"), "plan|ci|-"},
		"ends after its BEGIN line":        {header + "\n" + block[0], "plan|ci|-"},
		"a signature after no reporter":    {"success lint\n" + strings.Join(block, "\n") + "\n", "lint||-"},
		"whole, without a final line feed": {strings.Join(lines, "\n"), "plan|ci|sig"},
	} {
		got := records.ParseChecks([]byte(tc.note))
		var b []string
		for _, r := range got {
			b = append(b, r.Name+"|"+r.By+"|"+map[bool]string{true: "sig", false: "-"}[r.Signature != nil])
		}
		if strings.Join(b, "\n") != tc.want {
			t.Errorf("%s: parsed %q, want %q", name, b, tc.want)
		}
	}
}

// Between reporters the worse state wins: a failure any reporter stands by is a
// failure, whatever another reports. A note's first report starts the note.
func TestRuleChecksWorseStateWinsBetweenReporters(t *testing.T) {
	ci, pubCI := rulesSigner(t)
	scanner, pubScanner := rulesSigner(t)
	as, err := signing.ParseAllowedSigners("allowed_signers", []byte("ci "+pubCI+"\nscanner "+pubScanner+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr := records.CheckTrust{Signers: as, Reporters: []string{"ci", "scanner"}, Now: rulesNow}
	for _, states := range [][2]forge.CheckState{{forge.CheckSuccess, forge.CheckFailure}, {forge.CheckFailure, forge.CheckSuccess}, {forge.CheckPending, forge.CheckSuccess}} {
		a, err := records.SignCheck(ci, rulesCommit, "plan", states[0], "ci", rulesNow)
		if err != nil {
			t.Fatal(err)
		}
		b, err := records.SignCheck(scanner, rulesCommit, "plan", states[1], "scanner", rulesNow)
		if err != nil {
			t.Fatal(err)
		}
		want := states[0]
		if states[1] == forge.CheckFailure || states[0] == forge.CheckSuccess && states[1] == forge.CheckPending {
			want = states[1]
		}
		note := records.AddCheck(records.AddCheck(nil, a), b)
		got, ignored := tr.Count(rulesCommit, records.ParseChecks(note))
		if got["plan"] != want {
			t.Errorf("ci %s, scanner %s: plan is %s, want %s (ignored %q)", states[0], states[1], got["plan"], want, ignored)
		}
	}
	if a, _ := records.SignCheck(ci, rulesCommit, "plan", forge.CheckSuccess, "ci", rulesNow); string(records.AddCheck(nil, a)) != string(a.Entry()) {
		t.Errorf("the first report of a note: %q, want its entry alone", records.AddCheck(nil, a))
	}
}
