package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// The rule "a merge is of a tree and an intent" (remediator/TRUST.md): an operator's
// revert of a remediation is a rejection. It starts the runbook's cooldown for the
// target from when the remediator saw it (the revert's date is a claim), and it
// counts against the runbook version's record. Before, the remediator proposed again
// at once and the version kept its autonomy.

// mergedAgo merges the proposal of id as the remediator did, ago before now (its own
// clock, which its signature covers), with a sealed outcome, and deletes the branch.
func mergedAgo(t *testing.T, cfg, infra, id string, ago time.Duration, outcome string) (work string) {
	t.Helper()
	work = filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", infra, work)
	gittest.Run(t, work, "config", "user.name", "remediator")
	gittest.Run(t, work, "config", "user.email", "remediator@localhost")
	branch := decision.Branch(id)
	trailers := gittest.Run(t, work, "log", "-1", "--format=%(trailers:only,unfold)", "origin/"+branch)
	at := time.Now().Add(-ago).UTC().Format(time.RFC3339)
	t.Setenv("GIT_COMMITTER_DATE", at)
	t.Setenv("GIT_AUTHOR_DATE", at)
	asRemediator(t, cfg, work, "merge", "-q", "--no-ff", "-m", "Merge remediation "+id+"\n\n"+trailers, "origin/"+branch)
	t.Setenv("GIT_COMMITTER_DATE", "")
	t.Setenv("GIT_AUTHOR_DATE", "")
	sha := gittest.Run(t, work, "rev-parse", "HEAD")
	gittest.Run(t, work, "notes", "--ref=remediation", "add", "-F", sealedNote(t, cfg, records.KindOutcome, sha, "outcome: "+outcome), "HEAD")
	gittest.Run(t, work, "push", "-q", "origin", "main", "refs/notes/remediation", ":refs/heads/"+branch)
	return work
}

// operatorReverts pushes `git revert` of the newest merge of main, as an operator.
func operatorReverts(t *testing.T, work string) {
	t.Helper()
	gittest.Run(t, work, "-c", "user.name=operator", "-c", "user.email=operator@localhost", "revert", "--no-edit", "-m", "1", "HEAD")
	gittest.Run(t, work, "push", "-q", "origin", "main")
}

// revertButton reverts the newest merge of main as GitHub's revert button does: one
// commit on a branch, merged by a pull request whose merge commit says nothing of it.
func revertButton(t *testing.T, work string) {
	t.Helper()
	as := []string{"-c", "user.name=operator", "-c", "user.email=operator@localhost"}
	gittest.Run(t, work, "checkout", "-q", "-b", "revert-1", "main")
	gittest.Run(t, work, append(as, "revert", "--no-edit", "-m", "1", "HEAD")...)
	gittest.Run(t, work, "checkout", "-q", "main")
	gittest.Run(t, work, append(as, "merge", "-q", "--no-ff", "-m", "Merge pull request #2 from acme/revert-1\n\nRevert the remediation", "revert-1")...)
	gittest.Run(t, work, "push", "-q", "origin", "main")
}

func TestGateBypassRevertedRemediation(t *testing.T) {
	for _, how := range []struct {
		name   string
		revert func(t *testing.T, work string)
	}{{"git revert on the base", operatorReverts}, {"GitHub's revert pull request", revertButton}} {
		t.Run(how.name, func(t *testing.T) { revertedRemediation(t, how.revert) })
	}
}

func revertedRemediation(t *testing.T, revert func(t *testing.T, work string)) {
	policy := func(rb *runbooks.Runbook, p *runbooks.Policy) {
		rb.Spec.Cooldown = runbooks.Duration(time.Hour)
		p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 1}
	}
	cfg, infra, id := proposed(t, policy)
	// Merged two hours ago and verified: the merge's own cooldown is over, and the
	// version earned its autonomy.
	work := mergedAgo(t, cfg, infra, id, 2*time.Hour, "verified")
	labels := []string{"route", "--config", cfg, "--labels", "alertname=HighLatency,service=api-gateway,env=prod", "--value", "0.9"}
	if _, route, _ := cli(t, labels...); !strings.Contains(route, "auto-merge: yes") {
		t.Fatalf("route before the revert:\n%s", route)
	}

	revert(t, work)
	reconcileWants(t, cfg, "")
	_, route, _ := cli(t, labels...)
	if strings.Contains(route, "auto-merge: yes") || !strings.Contains(route, "an operator reverted") {
		t.Fatalf("route after the revert:\n%s", route)
	}
	code, out, errs := proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.Contains(out, "cooldown: this target's proposal was rejected at") || !strings.Contains(out, "an operator reverted its merge") {
		t.Fatalf("propose after the revert: exit %d\n%s%s", code, out, errs)
	}
	if note := gittest.Run(t, infra, "notes", "--ref=remediation-rejections", "list"); note == "" {
		t.Fatal("no rejection sealed for the revert")
	}
}
