package gitlab_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestPushersAreEveryoneSinceTheBranchWasCreated: who pushed is read back to the
// push that created the merge request's branch, however long before the merge
// request it was (it was read from two days before the merge request, and a push
// three days before it went unseen: its pusher could approve). Pushes to an earlier
// branch of the same name, deleted since, are not this merge request's.
func TestPushersAreEveryoneSinceTheBranchWasCreated(t *testing.T) {
	w := newWorld(t)
	jump := func(d time.Duration) {
		at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).Add(d)
		w.s.SetClock(func() time.Time { at = at.Add(time.Second); return at })
	}
	ctx := context.Background()
	// Carol creates the branch; three days later the remediator pushes its change
	// on top and opens the merge request.
	jump(0)
	w.push("carol", "remediation/b1", "carol.tfvars")
	jump(72 * time.Hour)
	w.push("remediator", "remediation/b1", "b1.tfvars")
	p, err := w.f.Open(ctx, request("b1"))
	if err != nil {
		t.Fatal(err)
	}
	pushers, err := w.f.Pushers(ctx, p.Number)
	if err != nil || !slices.Contains(pushers, "carol") || !slices.Contains(pushers, "remediator") {
		t.Fatalf("pushers %v (%v), want carol, who created the branch three days before, and the remediator", pushers, err)
	}
	// Mallory pushed a branch of the same name and deleted it; the remediator's
	// branch is a new one.
	w.push("mallory", "remediation/a1", "mallory.tfvars")
	w.s.DeleteBranch(project, "mallory", "remediation/a1")
	a := w.open("a1")
	if pushers, err := w.f.Pushers(ctx, a.Number); err != nil || !slices.Equal(pushers, []string{"remediator"}) {
		t.Fatalf("pushers %v (%v), want the remediator only", pushers, err)
	}
}
