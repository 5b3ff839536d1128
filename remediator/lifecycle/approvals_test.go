package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
)

func TestCounted(t *testing.T) {
	at := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	a := func(name, email string) lifecycle.Approval {
		return lifecycle.Approval{Name: name, Email: email, At: at}
	}
	cases := []struct {
		name      string
		approvals []lifecycle.Approval
		want      []string
		ignored   string
	}{
		{"two people", []lifecycle.Approval{a("Alice", "alice@x"), a("Bob", "bob@x")}, []string{"Alice <alice@x>", "Bob <bob@x>"}, ""},
		{"the same person twice, case apart", []lifecycle.Approval{a("Alice", "alice@x"), a("alice", "ALICE@x")}, []string{"Alice <alice@x>"}, "already counted"},
		{"the author by email", []lifecycle.Approval{a("Someone", "remediator@localhost")}, nil, "author cannot approve"},
		{"the author by name", []lifecycle.Approval{a("remediator", "")}, nil, "author cannot approve"},
		{"a bot by name", []lifecycle.Approval{a("renovate[bot]", "r@x")}, nil, "bot's approval"},
		{"a bot by email", []lifecycle.Approval{a("Deploy", "1+deploy[bot]@users.noreply.github.com")}, nil, "bot's approval"},
	}
	for _, c := range cases {
		got, ignored := lifecycle.Counted(c.approvals, "remediator", "remediator@localhost")
		var names []string
		for _, g := range got {
			names = append(names, g.String())
		}
		if strings.Join(names, ";") != strings.Join(c.want, ";") {
			t.Errorf("%s: counted %v, want %v", c.name, names, c.want)
		}
		if c.ignored != "" && !strings.Contains(strings.Join(ignored, ";"), c.ignored) {
			t.Errorf("%s: ignored %v, want a reason with %q", c.name, ignored, c.ignored)
		}
	}
}

func TestApprovalNoteRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	note := lifecycle.AddApproval(nil, lifecycle.Approval{Name: "Alice <evil>", Email: "alice@x", At: at})
	note = lifecycle.AddApproval(note, lifecycle.Approval{Name: "Alice", Email: "ALICE@x", At: at.Add(time.Hour)}) // same person
	note = lifecycle.AddApproval(note, lifecycle.Approval{Name: "Bob", Email: "bob@x", At: at})
	got := lifecycle.ParseApprovals(note)
	if len(got) != 2 || got[0].Name != "Alice evil" || got[0].Email != "alice@x" || !got[0].At.Equal(at) || got[1].Name != "Bob" {
		t.Fatalf("%q -> %+v", note, got)
	}
}

// Notes are Git data anyone with push access can write.
func FuzzParseApprovals(f *testing.F) {
	f.Add([]byte("approved: Alice <alice@x> 2026-11-25T05:00:00Z\n"))
	f.Add([]byte("approved: <> 2026-11-25T05:00:00Z\napproved: x\n"))
	f.Add([]byte("approved: A <b> <c> 2026-11-25T05:00:00Z"))
	f.Fuzz(func(t *testing.T, note []byte) {
		for _, a := range lifecycle.ParseApprovals(note) {
			if a.At.IsZero() {
				t.Fatalf("approval without a time: %+v", a)
			}
			// What was read, written again, reads the same.
			again := lifecycle.ParseApprovals(lifecycle.AddApproval(nil, a))
			if len(again) != 1 {
				t.Fatalf("%+v did not survive a round trip", a)
			}
		}
	})
}
