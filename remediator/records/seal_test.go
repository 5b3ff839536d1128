package records_test

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// Outcome notes are Git data anyone with push access writes: whatever a note holds,
// reading it never fails, and it yields an outcome only with the body the remediator
// sealed, for that commit: no edit of a sealed note (its body, its signature, text
// around them) makes it say anything else.
func FuzzReadOutcome(f *testing.F) {
	key := remediatorKey(f)
	commit := plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")
	const body = "outcome: failed\nchecked_at: 2026-11-30T10:00:00Z\n"
	sealed, err := records.Seal(key, records.KindOutcome, commit, body)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte("outcome: verified\n"))
	f.Add(append([]byte("outcome: verified\n"), sealed[len(body):]...))
	f.Add(append(append([]byte{}, sealed...), "\noutcome: verified\n"...))
	f.Fuzz(func(t *testing.T, note []byte) {
		ev := records.ReadOutcome(note, commit, key.Public())
		if ev.Outcome != "" && string(ev.Body) != body {
			t.Fatalf("a note the remediator did not seal was believed: %q", note)
		}
		if ev.Outcome == "" && note != nil && ev.Tampered == "" {
			t.Fatalf("a note that proves nothing was not reported: %q", note)
		}
		_ = records.ReadProgress(note, commit, key.Public())
	})
}
