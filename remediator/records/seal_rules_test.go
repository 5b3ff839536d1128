package records_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// A note the remediator did not seal proves nothing, and when it is where an outcome
// should be, it is tampering: the evidence it may have replaced is gone.
func TestRuleUnsealedOutcomeIsTampering(t *testing.T) {
	rem, _ := rulesSigner(t)
	other, _ := rulesSigner(t)
	merge := plumbing.NewHash(rulesCommit)
	body := "outcome: verified\nchecked_at: 2026-06-01T12:00:00Z\n"
	sealed, err := records.Seal(rem, records.KindOutcome, merge, body)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := records.Seal(other, records.KindOutcome, merge, body)
	progress, _ := records.Seal(rem, records.KindOutcome, plumbing.NewHash(rulesOtherCommit), body)
	for _, tc := range []struct {
		name     string
		note     []byte
		tampered string
	}{
		{"no note", nil, ""},
		{"sealed", sealed, ""},
		{"unsealed", []byte(body), "outcome note not sealed by the remediator: unsigned"},
		{"sealed by another key", forged, "outcome note not sealed by the remediator"},
		{"sealed for another merge", progress, "outcome note not sealed by the remediator"},
		{"edited after sealing", []byte(strings.Replace(string(sealed), "verified", "failed", 1)), "outcome note not sealed by the remediator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := records.ReadOutcome(tc.note, merge, rem.Public())
			if !strings.HasPrefix(ev.Tampered, tc.tampered) || (tc.tampered == "") != (ev.Tampered == "") {
				t.Fatalf("Tampered = %q, want %q", ev.Tampered, tc.tampered)
			}
			if tc.tampered != "" && ev.Outcome != "" {
				t.Fatalf("a tampered note gave the outcome %q", ev.Outcome)
			}
			if tc.name == "sealed" && ev.Outcome != forge.OutcomeVerified {
				t.Fatalf("sealed outcome read as %q", ev.Outcome)
			}
		})
	}
	if ev := records.ReadOutcome(sealed, merge, nil); ev.Tampered == "" {
		t.Fatal("without the remediator's key nothing is the remediator's record")
	}
}

func TestRuleSealBindsKindCommitAndBody(t *testing.T) {
	rem, _ := rulesSigner(t)
	c := plumbing.NewHash(rulesCommit)
	note, err := records.Seal(rem, records.KindProgress, c, "applied_at: 2026-06-01T12:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	body, err := records.Unseal(note, records.KindProgress, c, rem.Public())
	if err != nil || string(body) != "applied_at: 2026-06-01T12:00:00Z\n" {
		t.Fatalf("unseal: %q %v (the body ends with a newline)", body, err)
	}
	if _, err := records.Unseal(note, records.KindOutcome, c, rem.Public()); !errors.Is(err, records.ErrUnsealed) {
		t.Fatalf("a progress seal read as an outcome: %v", err)
	}
	if _, err := records.Unseal(note, records.KindProgress, plumbing.NewHash(rulesOtherCommit), rem.Public()); !errors.Is(err, records.ErrUnsealed) {
		t.Fatalf("a seal of one commit read for another: %v", err)
	}
	if _, err := records.Unseal([]byte("x\n-----BEGIN SSH SIGNATURE-----\nnot base64\n"), records.KindProgress, c, rem.Public()); !errors.Is(err, records.ErrUnsealed) {
		t.Fatalf("an unreadable seal: %v", err)
	}
	plain, err := records.Seal(nil, records.KindProgress, c, "x\n")
	if err != nil || string(plain) != "x\n" {
		t.Fatalf("without a key the body is written as it is: %q %v", plain, err)
	}
	empty, _ := records.Seal(nil, records.KindProgress, c, "")
	if len(empty) != 0 {
		t.Fatalf("an empty body stays empty: %q", empty)
	}
	// A sealed empty body is a note that starts with its signature: still sealed.
	if empty, err = records.Seal(rem, records.KindProgress, c, ""); err != nil {
		t.Fatal(err)
	}
	if body, err := records.Unseal(empty, records.KindProgress, c, rem.Public()); err != nil || len(body) != 0 {
		t.Fatalf("a sealed empty body: %q %v", body, err)
	}
}

// A merge is the remediator's when it signed the merge commit, or sealed its intent
// to merge the merged head for this very remediation.
func TestRuleMergeProvenanceNeedsTheRemediatorsSignatureOrIntent(t *testing.T) {
	rem, _ := rulesSigner(t)
	head := plumbing.NewHash(rulesOtherCommit)
	byGitHub := func() *object.Commit {
		c := rulesHead(t, nil, "Merge pull request #1\n")
		c.ParentHashes = []plumbing.Hash{plumbing.NewHash(rulesCommit), head}
		return c
	}
	// The intent binds the remediation, the base, the head and the tree the merge made.
	intentFor := func(id string) []byte {
		m := byGitHub()
		n, err := records.SealMergeIntent(rem, id, m.ParentHashes[0], head, m.TreeHash)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// What an older remediator sealed: the head only, no base or tree.
	headOnly, err := records.Seal(rem, records.KindMerge, head, "merge "+rulesID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		merge  *object.Commit
		intent []byte
		ours   bool
	}{
		{"signed by the remediator", rulesHead(t, rem, "merge\n"), nil, true},
		{"its sealed intent for this remediation", byGitHub(), intentFor(rulesID), true},
		{"its sealed intent for another remediation", byGitHub(), intentFor("ffffffffffffffff"), false},
		{"an unsealed intent", byGitHub(), []byte("merge " + rulesID + "\n"), false},
		{"no intent", byGitHub(), nil, false},
		{"an intent that binds the head only", byGitHub(), headOnly, false},
		{"a single-parent commit", rulesHead(t, nil, "squash\n"), intentFor(rulesID), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why, err := records.MergeProvenance(tc.merge, rulesID, func(h plumbing.Hash) ([]byte, error) {
				switch h {
				case head:
					return tc.intent, nil
				case tc.merge.Hash:
					return nil, nil // no record on the merge commit itself
				}
				t.Fatalf("record read for %s, neither the merge nor the merged head", h)
				return nil, nil
			}, rem.Public())
			if err != nil {
				t.Fatal(err)
			}
			if tc.ours != (why == "") {
				t.Fatalf("MergeProvenance = %q, want ours=%v", why, tc.ours)
			}
		})
	}
	if why, _ := records.MergeProvenance(rulesHead(t, rem, "merge\n"), rulesID, nil, nil); why == "" {
		t.Fatal("without a key no merge is the remediator's")
	}
}
