package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

func withCooldown(rb *runbooks.Runbook, _ *runbooks.Policy) {
	rb.Spec.Cooldown = runbooks.Duration(time.Hour)
}

func closedNote(t *testing.T, infra, id string) string {
	t.Helper()
	return gittest.Run(t, infra, "notes", "--ref="+strings.TrimPrefix(records.ClosedRef, "refs/notes/"), "show", records.ClosedKey(id).String())
}

// A reviewer's rejection closes the proposal and starts the runbook's cooldown for
// the target: a repeat of the anomaly proposes nothing until it ends, and the
// rejected head pushed again never merges.
func TestRejectStartsTheCooldown(t *testing.T) {
	cfg, infra, id := proposed(t, withCooldown)
	branch := decision.Branch(id)
	head := gittest.Run(t, infra, "rev-parse", branch)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"reject", "--config", cfg, "--key", keyOf(cfg, "alice")}, "--id and --key are required"},
		{[]string{"reject", "--config", cfg, "--id", id, "--key", keyOf(cfg, "mallory")}, "is not listed in"},
		{[]string{"reject", "--config", cfg, "--id", "scale-out-api-nothing", "--key", keyOf(cfg, "alice")}, "no proposal branch"},
		{[]string{"close", "--config", cfg}, "--id is required"},
	} {
		if code, _, errs := cli(t, tc.args...); code != 2 || !strings.Contains(errs, tc.want) {
			t.Fatalf("%v: exit %d, want 2 and %q: %s", tc.args, code, tc.want, errs)
		}
	}

	code, out, errs := cli(t, "reject", "--config", cfg, "--id", id, "--key", keyOf(cfg, "alice"), "--reason", "not at peak hours")
	if code != 0 || !strings.HasPrefix(out, "rejected "+id+" at "+head[:12]+" by alice@example.com") {
		t.Fatalf("reject: %d %s %s", code, out, errs)
	}
	if _, err := gittest.Output(infra, "rev-parse", "--verify", "-q", branch); err == nil {
		t.Fatal("the rejected branch is still there")
	}
	note := closedNote(t, infra, id)
	for _, want := range []string{"closed: " + id, "head: " + head, "how: rejected", "by: alice@example.com", "reason: not at peak hours", "BEGIN SSH SIGNATURE"} {
		if !strings.Contains(note, want) {
			t.Fatalf("rejection record lacks %q:\n%s", want, note)
		}
	}
	// The anomaly fires again: suppressed for the cooldown.
	code, out, errs = proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.HasPrefix(out, "suppressed: ") || !strings.Contains(out, "closed without merge") || !strings.Contains(out, "(cooldown)") {
		t.Fatalf("repeat during the cooldown: %d %s %s", code, out, errs)
	}
	// The rejected head pushed again, approved: it never merges.
	gittest.Run(t, infra, "update-ref", "refs/heads/"+branch, head)
	aliceApproves(t, cfg, id)
	reconcileWants(t, cfg, "a closed proposal pushed again never merges")
	assertNotMerged(t, infra)
	// And it is still the rejected proposal for the proposer: no new one.
	if code, out, _ := proposeRun(t, cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "suppressed: ") {
		t.Fatalf("repeat with the rejected head pushed again: %d %s", code, out)
	}
}

// A rejection written by hand (unsigned, or signed by a key not listed) is no
// rejection: it suppresses nothing.
func TestForgedRejectionSuppressesNothing(t *testing.T) {
	cfg, infra, id := proposed(t, withCooldown)
	branch := decision.Branch(id)
	head := gittest.Run(t, infra, "rev-parse", branch)
	forged := "closed: " + id + "\nhead: " + head + "\nhow: rejected\nby: alice@example.com\nat: " + time.Now().UTC().Format(time.RFC3339) + "\nreason: forged\n"
	gittest.Run(t, infra, "notes", "--ref="+strings.TrimPrefix(records.ClosedRef, "refs/notes/"), "add", "-f", "-m", forged, records.ClosedKey(id).String())
	gittest.Run(t, infra, "update-ref", "-d", "refs/heads/"+branch)
	if code, out, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("a forged rejection suppressed the anomaly: %d %s %s", code, out, errs)
	}
}

// An operator closes a proposal with the remediator's key: sealed, the branch
// deleted, and the cooldown starts as for a pull request closed by hand.
func TestOperatorClose(t *testing.T) {
	cfg, infra, id := proposed(t, withCooldown)
	code, out, errs := cli(t, "close", "--config", cfg, "--id", id, "--reason", "handled by hand")
	if code != 0 || !strings.HasPrefix(out, "closed "+id) {
		t.Fatalf("close: %d %s %s", code, out, errs)
	}
	if note := closedNote(t, infra, id); !strings.Contains(note, "how: closed") || !strings.Contains(note, "by: remediator") || !strings.Contains(note, "BEGIN SSH SIGNATURE") {
		t.Fatalf("closing record:\n%s", note)
	}
	if code, out, _ := proposeRun(t, cfg, alert("api-gateway")); code != 0 || !strings.Contains(out, "(cooldown)") {
		t.Fatalf("repeat after close: %d %s", code, out)
	}
}
