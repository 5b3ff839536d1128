package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// The rule "deleting records is visible" (remediator/TRUST.md): someone who may push
// the notes refs deletes the sealed failed outcome of a merge by force-pushing
// refs/notes/remediation without it. Before the rule the failure was simply gone:
// the breaker no longer counted it and the version auto-merged.

// addRecordedMerge is addOutcome as today's remediator leaves it: its signed merge
// commits to the tip of the outcome notes as they stood (Records-Outcome).
func addRecordedMerge(t *testing.T, cfg, infra, version, outcome string) string {
	t.Helper()
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", infra, work)
	gittest.Run(t, work, "config", "user.name", "t")
	gittest.Run(t, work, "config", "user.email", "t@localhost")
	tips := ""
	if _, err := gittest.Output(work, "fetch", "-q", "origin", "refs/notes/remediation:refs/notes/remediation"); err == nil {
		tips = "Records-Outcome: " + gittest.Run(t, work, "rev-parse", "refs/notes/remediation") + "\n"
	}
	n := gittest.Run(t, work, "rev-list", "--count", "--merges", "main")
	id := "scale-out-api-" + n + "-records"
	gittest.Run(t, work, "checkout", "-q", "-b", "r", "main")
	gittest.WriteFile(t, filepath.Join(work, "runs", id), outcome)
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", "remediation "+id)
	gittest.Run(t, work, "checkout", "-q", "main")
	asRemediator(t, cfg, work, "merge", "-q", "--no-ff", "-m",
		fmt.Sprintf("Merge remediation %s\n\nRemediation-Id: %s\nRunbook: scale-out-api\nRunbook-Version: %s\n%s", id, id, version, tips), "r")
	sha := gittest.Run(t, work, "rev-parse", "HEAD")
	gittest.Run(t, work, "notes", "--ref=remediation", "add", "-F", sealedNote(t, cfg, records.KindOutcome, sha, "outcome: "+outcome), "HEAD")
	gittest.Run(t, work, "push", "-q", "origin", "main", "refs/notes/remediation")
	return sha
}

// forceDeleteNote rewrites refs/notes/remediation without the note on commit, as a
// force push of a rewritten notes history leaves it: no commit of the new history
// ever held it.
func forceDeleteNote(t *testing.T, infra, commit string) {
	t.Helper()
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", infra, work)
	gittest.Run(t, work, "config", "user.name", "m")
	gittest.Run(t, work, "config", "user.email", "m@localhost")
	gittest.Run(t, work, "fetch", "-q", "origin", "refs/notes/remediation:refs/notes/remediation")
	gittest.Run(t, work, "notes", "--ref=remediation", "remove", commit)
	tree := gittest.Run(t, work, "rev-parse", "refs/notes/remediation^{tree}")
	orphan := gittest.Run(t, work, "commit-tree", "-m", "Notes", tree)
	gittest.Run(t, work, "push", "-q", "--force", "origin", orphan+":refs/notes/remediation")
}

func recordsPolicy(rb *runbooks.Runbook, p *runbooks.Policy) {
	rb.Spec.Rollback = runbooks.RollbackNone
	p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 2}
	p.Spec.Approvals.Medium = 0
	p.Spec.CircuitBreaker = runbooks.CircuitBreaker{Failures: 1, Window: runbooks.Duration(24 * time.Hour), Cooldown: runbooks.Duration(24 * time.Hour)}
}

// The failure of an older merge deleted: audit verify names it, the version earns no
// autonomy from it, and the breaker still counts it.
func TestGateBypassDeletedOlderFailure(t *testing.T) {
	cfg, infra, id := proposed(t, recordsPolicy)
	version := proposalArtifact(t, infra, id).RunbookVersion
	failed := addRecordedMerge(t, cfg, infra, version, "failed")
	addRecordedMerge(t, cfg, infra, version, "verified")
	addRecordedMerge(t, cfg, infra, version, "verified")
	if _, out, _ := cli(t, "audit", "verify", "--repository", infra, "--config", cfg); strings.Contains(out, "record-deleted") {
		t.Fatalf("record-deleted before any deletion:\n%s", out)
	}
	before := gittest.Run(t, infra, "rev-parse", "main")

	forceDeleteNote(t, infra, failed)
	code, out, errs := cli(t, "audit", "verify", "--repository", infra, "--config", cfg)
	if code != 1 || !strings.Contains(out, "record-deleted") {
		t.Fatalf("audit verify after the deletion: exit %d\n%s%s", code, out, errs)
	}
	_, route, _ := cli(t, "route", "--config", cfg, "--labels", "alertname=HighLatency,service=api-gateway,env=prod", "--value", "0.9")
	if strings.Contains(route, "auto-merge: yes") || !strings.Contains(route, "was deleted") {
		t.Fatalf("route after the deletion:\n%s", route)
	}
	reconcileWants(t, cfg, "no auto-merge yet")
	aliceApproves(t, cfg, id)
	reconcileWants(t, cfg, "circuit breaker")
	if after := gittest.Run(t, infra, "rev-parse", "main"); after != before {
		t.Fatalf("merged after a failure was deleted: %s", gittest.Run(t, infra, "log", "--oneline", "-3", "main"))
	}
}

// The failure of the newest merge deleted: no signed merge committed to it yet, so
// the remediator, which saw it, puts it back at its next pass, and autonomy stays
// lost since that failure.
func TestGateBypassDeletedNewestFailure(t *testing.T) {
	cfg, infra, id := proposed(t, recordsPolicy)
	version := proposalArtifact(t, infra, id).RunbookVersion
	addRecordedMerge(t, cfg, infra, version, "verified")
	addRecordedMerge(t, cfg, infra, version, "verified")
	failed := addRecordedMerge(t, cfg, infra, version, "failed")
	reconcileWants(t, cfg, "(counted since its failure merged at")
	before := gittest.Run(t, infra, "rev-parse", "main")

	forceDeleteNote(t, infra, failed)
	reconcileWants(t, cfg, "(counted since its failure merged at")
	if after := gittest.Run(t, infra, "rev-parse", "main"); after != before {
		t.Fatalf("merged after the newest failure was deleted: %s", gittest.Run(t, infra, "log", "--oneline", "-3", "main"))
	}
	if note, err := gittest.Output(infra, "notes", "--ref=remediation", "show", failed); err != nil || !strings.Contains(note, "outcome: failed") {
		t.Fatalf("the deleted failure was not put back: %q %v", note, err)
	}
}

// The remediator's own merge commits to the tips of its records refs.
func TestMergeCommitsToTheRecordsTips(t *testing.T) {
	cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	addRecordedMerge(t, cfg, infra, proposalArtifact(t, infra, id).RunbookVersion, "verified")
	tip := gittest.Run(t, infra, "rev-parse", "refs/notes/remediation")
	aliceApproves(t, cfg, id)
	reconcileWants(t, cfg, "merged")
	if msg := gittest.Run(t, infra, "log", "-1", "--format=%B", "main"); !strings.Contains(msg, "Records-Outcome: "+tip) {
		t.Fatalf("merge message without the outcome notes' tip %s:\n%s", tip, msg)
	}
}
