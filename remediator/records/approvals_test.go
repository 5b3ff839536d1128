package records_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

// keys makes an SSH key per name and an allowed-signers file listing those in listed.
func keys(t *testing.T, names []string, listed map[string]string) (map[string]*signing.Key, *signing.AllowedSigners) {
	t.Helper()
	dir := t.TempDir()
	out := map[string]*signing.Key{}
	var file strings.Builder
	for _, n := range names {
		f := filepath.Join(dir, n)
		if err := signing.GenerateKeyFile(f); err != nil {
			t.Fatal(err)
		}
		k, err := signing.LoadKey(f)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = k
		if principal, ok := listed[n]; ok {
			pub, _ := os.ReadFile(f + ".pub")
			file.WriteString(principal + " " + string(pub))
		}
	}
	as, err := signing.ParseAllowedSigners("allowed_signers", []byte(file.String()))
	if err != nil {
		t.Fatal(err)
	}
	return out, as
}

func TestCountedNeedsValidSignatures(t *testing.T) {
	at := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	k, as := keys(t, []string{"alice", "bob", "mallory", "remediator"},
		map[string]string{"alice": "alice@example.com", "bob": "bob@example.com", "remediator": "remediator@localhost"})
	sign := func(key, principal, c string) records.Approval {
		a, err := records.Sign(k[key], c, principal, records.ViaSSH, at)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	trust := records.Trust{Reviewers: as, Excluded: []string{"remediator", "remediator@localhost"}, Now: at}
	unsigned := records.Approval{Principal: "alice@example.com", Via: records.ViaSSH, At: at}
	cases := []struct {
		name      string
		approvals []records.Approval
		want      string
		ignored   string
	}{
		{"two people", []records.Approval{sign("bob", "bob@example.com", commit), sign("alice", "alice@example.com", commit)}, "alice@example.com,bob@example.com", ""},
		{"the same person twice", []records.Approval{sign("alice", "alice@example.com", commit), sign("alice", "ALICE@example.com", commit)}, "alice@example.com", "already counted"},
		{"unsigned", []records.Approval{unsigned}, "", "unsigned approval"},
		{"signed by another's key", []records.Approval{sign("bob", "alice@example.com", commit)}, "", "listed for bob@example.com, not alice@example.com"},
		{"an unknown key", []records.Approval{sign("mallory", "alice@example.com", commit)}, "", "a key not in"},
		{"signed for another commit", []records.Approval{sign("alice", "alice@example.com", strings.Repeat("f", 40))}, "", "does not verify"},
		{"the author", []records.Approval{sign("remediator", "remediator@localhost", commit)}, "", "author or a pusher"},
	}
	for _, c := range cases {
		got, ignored := records.Counted(commit, c.approvals, trust)
		var names []string
		for _, g := range got {
			names = append(names, g.String())
		}
		if strings.Join(names, ",") != c.want {
			t.Errorf("%s: counted %v, want %v (ignored %v)", c.name, names, c.want, ignored)
		}
		if c.ignored != "" && !strings.Contains(strings.Join(ignored, ";"), c.ignored) {
			t.Errorf("%s: ignored %v, want a reason with %q", c.name, ignored, c.ignored)
		}
	}
	// Without an allowed-signers file nothing counts.
	if got, ignored := records.Counted(commit, []records.Approval{sign("alice", "alice@example.com", commit)}, records.Trust{Now: at}); len(got) != 0 || !strings.Contains(ignored[0], "no allowed-signers file") {
		t.Fatalf("counted without keys: %v %v", got, ignored)
	}
	// A record of a GitHub review counts only when signed by the remediator.
	gh, _ := records.Sign(k["remediator"], commit, "alice", records.ViaForge, at)
	forged, _ := records.Sign(k["mallory"], commit, "alice", records.ViaForge, at)
	ghTrust := records.Trust{Remediator: k["remediator"].Public(), AcceptForge: true, Now: at}
	if got, ignored := records.Counted(commit, []records.Approval{gh, forged}, ghTrust); len(got) != 1 || len(ignored) != 1 || !strings.Contains(ignored[0], "not recorded by this remediator") {
		t.Fatalf("github records: %v %v", got, ignored)
	}
}

func TestApprovalNoteRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	k, _ := keys(t, []string{"alice", "bob"}, nil)
	a1, _ := records.Sign(k["alice"], commit, "alice@example.com", records.ViaSSH, at)
	a2, _ := records.Sign(k["alice"], commit, "alice@example.com", records.ViaSSH, at.Add(time.Hour)) // replaces a1
	b, _ := records.Sign(k["bob"], commit, "bob@example.com", records.ViaSSH, at)
	note := records.AddApproval(nil, a1)
	note = records.AddApproval(note, a2)
	note = records.AddApproval(note, b)
	note = append([]byte("approved: Mallory <m@x> 2026-11-25T05:00:00Z\n"), note...)
	got, unreadable := records.ParseApprovals(note)
	if len(got) != 2 || got[0].Principal != "alice@example.com" || !got[0].At.Equal(at.Add(time.Hour)) || got[1].Principal != "bob@example.com" {
		t.Fatalf("%s -> %+v", note, got)
	}
	if len(unreadable) != 1 || !strings.Contains(unreadable[0], "unreadable entry") {
		t.Fatalf("a hand-written line is not reported: %v", unreadable)
	}
}

// Notes are Git data anyone with push access can write.
func FuzzParseApprovals(f *testing.F) {
	f.Add([]byte("approval: alice@example.com via ssh at 2026-11-25T05:00:00Z\n-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"))
	f.Add([]byte("approval: alice via github at 2026-11-25T05:00:00Z\napproval: x via ssh at x\n"))
	f.Add([]byte("approved: A <b> <c> 2026-11-25T05:00:00Z\n-----BEGIN SSH SIGNATURE-----\n"))
	f.Fuzz(func(t *testing.T, note []byte) {
		got, _ := records.ParseApprovals(note)
		for _, a := range got {
			if a.At.IsZero() || a.Principal == "" {
				t.Fatalf("approval without a time or principal: %+v", a)
			}
			if a.Signature == nil {
				continue
			}
			// What was read, written again, reads the same.
			again, _ := records.ParseApprovals(records.AddApproval(nil, a))
			if len(again) != 1 || again[0].Principal != a.Principal || string(again[0].Signature) != string(a.Signature) {
				t.Fatalf("%+v did not survive a round trip: %+v", a, again)
			}
		}
	})
}
