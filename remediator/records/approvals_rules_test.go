package records_test

// One test per rule of "an approval is an identity" (remediator/TRUST.md), each
// named after the rule, so that a change weakening one fails a test that says which.
// Mutation testing (make mutation) found these rules unguarded.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

const rulesCommit, rulesOtherCommit = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"

var rulesNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// rulesSigner is a key and its allowed-signers key part.
func rulesSigner(t *testing.T) (*signing.Key, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "key")
	if err := signing.GenerateKeyFile(file); err != nil {
		t.Fatal(err)
	}
	k, err := signing.LoadKey(file)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(file + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return k, strings.TrimSpace(string(pub))
}

// rulesReviewers is a key listed in an allowed-signers file for the principals.
func rulesReviewers(t *testing.T, principals string) (*signing.Key, *signing.AllowedSigners) {
	t.Helper()
	k, pub := rulesSigner(t)
	as, err := signing.ParseAllowedSigners("allowed_signers", []byte(principals+" "+pub+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	return k, as
}

//nolint:unparam // the commit is what a rule binds an approval to
func rulesApproval(t *testing.T, k *signing.Key, commit, principal, via string) records.Approval {
	t.Helper()
	a, err := records.Sign(k, commit, principal, via, rulesNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// counted is the principals Counted counts, and its reasons for the others.
func counted(commit string, as []records.Approval, tr records.Trust) (string, string) {
	c, ignored := records.Counted(commit, as, tr)
	var names []string
	for _, a := range c {
		names = append(names, a.Principal)
	}
	return strings.Join(names, ","), strings.Join(ignored, "; ")
}

func TestRuleApprovalByTheAuthorOrAPusherDoesNotCount(t *testing.T) {
	k, as := rulesReviewers(t, "alice@example.com,bob")
	tr := records.Trust{Reviewers: as, Now: rulesNow, Excluded: []string{"remediator", "ALICE@Example.COM"}}
	got, why := counted(rulesCommit, []records.Approval{rulesApproval(t, k, rulesCommit, "alice@example.com", records.ViaSSH)}, tr)
	if got != "" || !strings.Contains(why, "cannot approve it") {
		t.Fatalf("an excluded identity (its principal, any case) approving: counted %q (%s)", got, why)
	}
	tr.Excluded = []string{"", "remediator"}
	if got, why := counted(rulesCommit, []records.Approval{rulesApproval(t, k, rulesCommit, "bob", records.ViaSSH)}, tr); got != "bob" {
		t.Fatalf("an empty excluded name excludes nobody: counted %q (%s)", got, why)
	}
}

func TestRuleBotApprovalDoesNotCount(t *testing.T) {
	for _, bot := range []string{"renovate[bot]", "Dependabot[BOT]", "ci[bot]@users.noreply.github.com"} {
		k, as := rulesReviewers(t, bot)
		tr := records.Trust{Reviewers: as, Now: rulesNow}
		got, why := counted(rulesCommit, []records.Approval{rulesApproval(t, k, rulesCommit, bot, records.ViaSSH)}, tr)
		if got != "" || !strings.Contains(why, "a bot's approval does not count") {
			t.Fatalf("%s, validly signed and listed: counted %q (%s)", bot, got, why)
		}
	}
	k, as := rulesReviewers(t, "bot-fan")
	if got, why := counted(rulesCommit, []records.Approval{rulesApproval(t, k, rulesCommit, "bot-fan", records.ViaSSH)},
		records.Trust{Reviewers: as, Now: rulesNow}); got != "bot-fan" {
		t.Fatalf("a person whose name merely contains bot: counted %q (%s)", got, why)
	}
}

// A record of a forge's review (GitHub, Gitea, GitLab) counts only on such a forge,
// only as the remediator recorded it; one written before Gitea, "via github", keeps
// counting as it did.
func TestRuleForgeReviewRecordCountsOnlyOnAForge(t *testing.T) {
	rem, _ := rulesSigner(t)
	stranger, _ := rulesSigner(t)
	record := rulesApproval(t, rem, rulesCommit, "alice", records.ViaForge)
	older := rulesApproval(t, rem, rulesCommit, "alice", "github")
	forged := rulesApproval(t, stranger, rulesCommit, "alice", records.ViaForge)
	for _, tc := range []struct {
		name string
		a    records.Approval
		tr   records.Trust
		want string // "" when it counts, else a part of the reason
	}{
		{"on a forge, recorded by this remediator", record, records.Trust{AcceptForge: true, Remediator: rem.Public()}, ""},
		{"recorded via github before Gitea", older, records.Trust{AcceptForge: true, Remediator: rem.Public()}, ""},
		{"recorded via github, on the local forge", older, records.Trust{AcceptForge: false, Remediator: rem.Public()}, "does not count on this forge"},
		{"on the local forge", record, records.Trust{AcceptForge: false, Remediator: rem.Public()}, "does not count on this forge"},
		{"on a forge without the remediator's key", record, records.Trust{AcceptForge: true}, "does not count on this forge"},
		{"recorded by another key", forged, records.Trust{AcceptForge: true, Remediator: rem.Public()}, "not recorded by this remediator"},
		{"for another commit", record, records.Trust{AcceptForge: true, Remediator: rem.Public()}, "not recorded by this remediator"},
		{"an unreadable signature", records.Approval{Principal: "alice", Via: records.ViaForge, At: rulesNow, Signature: []byte("junk")},
			records.Trust{AcceptForge: true, Remediator: rem.Public()}, "SSH signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			commit := rulesCommit
			if tc.name == "for another commit" {
				commit = rulesOtherCommit
			}
			tc.tr.Now = rulesNow
			got, why := counted(commit, []records.Approval{tc.a}, tc.tr)
			if tc.want == "" && got != "alice" {
				t.Fatalf("want counted, got %q (%s)", got, why)
			}
			if tc.want != "" && (got != "" || !strings.Contains(why, tc.want)) {
				t.Fatalf("want refused with %q, counted %q (%s)", tc.want, got, why)
			}
		})
	}
}

func TestRuleSSHApprovalNeedsAListedKey(t *testing.T) {
	k, as := rulesReviewers(t, "alice")
	a := rulesApproval(t, k, rulesCommit, "alice", records.ViaSSH)
	if got, why := counted(rulesCommit, []records.Approval{a}, records.Trust{Now: rulesNow}); got != "" || !strings.Contains(why, "no allowed-signers file") {
		t.Fatalf("without an allowed-signers file: counted %q (%s)", got, why)
	}
	if got, why := counted(rulesCommit, []records.Approval{a}, records.Trust{Reviewers: as, Now: rulesNow}); got != "alice" {
		t.Fatalf("listed key: counted %q (%s)", got, why)
	}
	if got, why := counted(rulesOtherCommit, []records.Approval{a}, records.Trust{Reviewers: as, Now: rulesNow}); got != "" || !strings.Contains(why, "signature not accepted") {
		t.Fatalf("an approval of one commit counted for another: %q (%s)", got, why)
	}
	mallory := rulesApproval(t, k, rulesCommit, "mallory", records.ViaSSH)
	if got, why := counted(rulesCommit, []records.Approval{mallory}, records.Trust{Reviewers: as, Now: rulesNow}); got != "" || !strings.Contains(why, "signature not accepted") {
		t.Fatalf("alice's key approving in mallory's name: counted %q (%s)", got, why)
	}
}

func TestRuleUnsignedOrUnknownApprovalDoesNotCount(t *testing.T) {
	k, as := rulesReviewers(t, "alice")
	tr := records.Trust{Reviewers: as, Now: rulesNow, AcceptForge: true, Remediator: k.Public()}
	unsigned := records.Approval{Principal: "alice", Via: records.ViaSSH, At: rulesNow}
	if got, why := counted(rulesCommit, []records.Approval{unsigned}, tr); got != "" || !strings.Contains(why, "unsigned approval") {
		t.Fatalf("unsigned: counted %q (%s)", got, why)
	}
	odd := rulesApproval(t, k, rulesCommit, "alice", records.ViaSSH)
	odd.Via = "email"
	if got, why := counted(rulesCommit, []records.Approval{odd}, tr); got != "" || !strings.Contains(why, "unknown kind of approval email") {
		t.Fatalf("unknown via: counted %q (%s)", got, why)
	}
}

func TestRuleOneApprovalPerIdentity(t *testing.T) {
	k, as := rulesReviewers(t, "alice,Alice,bob")
	tr := records.Trust{Reviewers: as, Now: rulesNow}
	got, why := counted(rulesCommit, []records.Approval{
		rulesApproval(t, k, rulesCommit, "bob", records.ViaSSH),
		rulesApproval(t, k, rulesCommit, "alice", records.ViaSSH),
		rulesApproval(t, k, rulesCommit, "Alice", records.ViaSSH),
	}, tr)
	// One key signed all three: a person is a key, however many principals it is listed for.
	if got != "bob" || !strings.Contains(why, "alice: already counted") || !strings.Contains(why, "Alice: already counted") {
		t.Fatalf("one key under three principals: counted %q (%s), want bob only", got, why)
	}
}

// A reviewer named in a policy matches one principal exactly (case folded): never by
// its local part, which another person's principal can share.
func TestRuleApprovalIsByItsPrincipalExactly(t *testing.T) {
	a := records.Approval{Principal: "Alice@Example.com"}
	for name, want := range map[string]bool{"alice": false, "alice@example.com": true, "ALICE@EXAMPLE.COM": true, "ALICE": false, "": false, "example.com": false, "bob": false} {
		if a.Is(name) != want {
			t.Errorf("%s Is(%q) = %v", a.Principal, name, !want)
		}
	}
	if (records.Approval{Principal: "@example.com"}).Is("") {
		t.Error("an empty local part names nobody")
	}
}

func TestRuleApprovalsNoteIsUntrustedText(t *testing.T) {
	k, _ := rulesReviewers(t, "alice")
	a := rulesApproval(t, k, rulesCommit, "alice", records.ViaSSH)
	b := rulesApproval(t, k, rulesCommit, "bob", records.ViaForge)
	long := strings.Repeat("x", 81)
	note := "hand-written line\n\n" + string(a.Entry()) + "approval: carol via ssh at 2026-01-01T00:00:00Z\n" +
		"approval: dave via ssh at yesterday\napproval: two words via ssh at 2026-01-01T00:00:00Z\n" +
		"approval: eve via mail at 2026-01-01T00:00:00Z\napproval: frank at 2026-01-01T00:00:00Z\n" +
		long + "\n" + strings.Repeat("y", 80) + "\n" + string(b.Entry())
	got, unreadable := records.ParseApprovals([]byte(note))
	var names []string
	for _, g := range got {
		names = append(names, g.Principal+":"+g.Via+":"+map[bool]string{true: "signed", false: "unsigned"}[g.Signature != nil])
	}
	if strings.Join(names, ",") != "alice:ssh:signed,carol:ssh:unsigned,bob:forge:signed" {
		t.Fatalf("parsed %v", names)
	}
	want := []string{`unreadable entry "hand-written line"`, "carol: unsigned approval", "unreadable entry \"approval: dave", "unreadable entry \"approval: two words",
		"unreadable entry \"approval: eve", "unreadable entry \"approval: frank", `unreadable entry "` + strings.Repeat("x", 80) + `..."`, `unreadable entry "` + strings.Repeat("y", 80) + `"`}
	if len(unreadable) != len(want) {
		t.Fatalf("unreadable %q", unreadable)
	}
	for i, w := range want {
		if !strings.HasPrefix(unreadable[i], w) {
			t.Errorf("unreadable[%d] = %q, want %q", i, unreadable[i], w)
		}
	}
	if got[0].At != rulesNow.Add(-time.Hour) || string(got[0].Signature) != strings.TrimSpace(string(a.Signature))+"\n" {
		t.Fatalf("entry read back differs: %+v", got[0])
	}
	// A header on the note's last line, without a newline, is an unsigned approval.
	got, unreadable = records.ParseApprovals([]byte("approval: carol via ssh at 2026-01-01T00:00:00Z"))
	if len(got) != 1 || got[0].Signature != nil || len(unreadable) != 1 || unreadable[0] != "carol: unsigned approval" {
		t.Fatalf("a last header without a newline: %v %q", got, unreadable)
	}
	// A signature cut short ends the note: nothing after it is read.
	cut := strings.SplitAfter(string(a.Entry()), "\n")
	truncated := strings.Join(cut[:len(cut)-2], "") + string(b.Entry()[:40])
	got, unreadable = records.ParseApprovals([]byte(truncated))
	if len(got) != 0 || len(unreadable) != 1 || unreadable[0] != "alice: truncated signature" {
		t.Fatalf("truncated: %v %q", got, unreadable)
	}
}

func TestRuleAddApprovalReplacesOnlyTheSameIdentityAndWay(t *testing.T) {
	k, _ := rulesReviewers(t, "alice")
	ssh1 := rulesApproval(t, k, rulesCommit, "alice", records.ViaSSH)
	gh := rulesApproval(t, k, rulesCommit, "alice", records.ViaForge)
	bob := rulesApproval(t, k, rulesCommit, "bob", records.ViaSSH)
	note := records.AddApproval(nil, ssh1)
	note = records.AddApproval(note, gh)
	note = records.AddApproval(note, bob)
	note = append(note, "approval: carol via ssh at 2026-01-01T00:00:00Z\n"...)
	again, err := records.Sign(k, rulesCommit, "ALICE", records.ViaSSH, rulesNow)
	if err != nil {
		t.Fatal(err)
	}
	note = records.AddApproval(note, again)
	got, _ := records.ParseApprovals(note)
	var names []string
	for _, g := range got {
		names = append(names, g.Principal+":"+g.Via)
	}
	if strings.Join(names, ",") != "alice:forge,bob:ssh,ALICE:ssh" {
		t.Fatalf("after re-approving: %v (want the older ssh entry replaced, the forge one and bob kept, carol's unsigned dropped)", names)
	}
	// A forge's record replaces one written before as "via github": the same way.
	older := rulesApproval(t, k, rulesCommit, "bob", "github")
	note = records.AddApproval(records.AddApproval(nil, older), rulesApproval(t, k, rulesCommit, "bob", records.ViaForge))
	if got, _ := records.ParseApprovals(note); len(got) != 1 || got[0].Via != records.ViaForge {
		t.Fatalf("a forge record over a github one: %+v", got)
	}
}

func TestRuleApprovalPrincipalIsOneWord(t *testing.T) {
	k, _ := rulesReviewers(t, "alice")
	for _, p := range []string{"", " ", "alice smith", "alice\tsmith", "alice\nvia"} {
		if _, err := records.Sign(k, rulesCommit, p, records.ViaSSH, rulesNow); err == nil {
			t.Errorf("principal %q accepted", p)
		}
	}
	a, err := records.Sign(k, rulesCommit, " alice ", records.ViaSSH, rulesNow.Add(500*time.Millisecond))
	if err != nil || a.Principal != "alice" || !a.At.Equal(rulesNow) {
		t.Fatalf("principal trimmed and time truncated to the second: %+v %v", a, err)
	}
}

// An approval that does not count is set aside: the approvals after it still count,
// each once, listed by principal whatever order the note holds them in.
func TestRuleAnIgnoredApprovalDoesNotStopTheCount(t *testing.T) {
	carol, pubCarol := rulesSigner(t)
	bob, pubBob := rulesSigner(t)
	as, err := signing.ParseAllowedSigners("allowed_signers", []byte("carol "+pubCarol+"\nbob "+pubBob+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	// No remediator key here: the check of it must not refuse anyone's approval.
	tr := records.Trust{Reviewers: as, Now: rulesNow}
	unsigned := records.Approval{Principal: "mallory", Via: records.ViaSSH, At: rulesNow}
	got, why := counted(rulesCommit, []records.Approval{
		unsigned, rulesApproval(t, carol, rulesCommit, "carol", records.ViaSSH), rulesApproval(t, bob, rulesCommit, "bob", records.ViaSSH),
	}, tr)
	if got != "bob,carol" || !strings.Contains(why, "mallory: unsigned approval") {
		t.Fatalf("counted %q (%s), want bob,carol after mallory's unsigned one is set aside", got, why)
	}
	// With the remediator's key known, only an approval signed with it is refused.
	remediator, pubRemediator := rulesSigner(t)
	if as, err = signing.ParseAllowedSigners("allowed_signers", []byte("carol "+pubCarol+"\nbob "+pubBob+"\nops "+pubRemediator+"\n")); err != nil {
		t.Fatal(err)
	}
	tr = records.Trust{Reviewers: as, Now: rulesNow, Remediator: remediator.Public()}
	got, why = counted(rulesCommit, []records.Approval{
		rulesApproval(t, remediator, rulesCommit, "ops", records.ViaSSH), rulesApproval(t, bob, rulesCommit, "bob", records.ViaSSH),
	}, tr)
	if got != "bob" || !strings.Contains(why, "ops: signed with the remediator's own key") {
		t.Fatalf("counted %q (%s), want bob, and not the remediator's own key", got, why)
	}
}
