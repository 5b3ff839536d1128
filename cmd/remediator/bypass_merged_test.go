package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// The rule "a merge is of a tree and an intent" (remediator/TRUST.md) on the local
// forge: what the base already holds of a remediation id is read at merge time,
// whatever hash the proposal's head has now. Each case merged again before.

// resign makes a new remediator-signed head for the proposal: the same tree (or,
// with extra, its artifact with a line more) on the base, so a new hash.
func resign(t *testing.T, cfg, infra, id, head, extra string) {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", infra, work)
	gittest.Run(t, work, "config", "user.name", "remediator")
	gittest.Run(t, work, "config", "user.email", "remediator@localhost")
	tree := gittest.Run(t, work, "rev-parse", head+"^{tree}")
	if extra != "" {
		gittest.Run(t, work, "checkout", "-q", head)
		gittest.WriteFile(t, filepath.Join(work, artifact.Path(id)), gittest.Run(t, work, "show", head+":"+artifact.Path(id))+"\n# "+extra+"\n")
		gittest.Run(t, work, "add", "-A")
		tree = gittest.Run(t, work, "write-tree")
	}
	msg := gittest.Run(t, work, "log", "-1", "--format=%B", head)
	// On the base as it is now, so that nothing but the rule stands in its way.
	c := asRemediator(t, cfg, work, "commit-tree", "-S", tree, "-p", "origin/main", "-m", msg)
	gittest.Run(t, work, "push", "-q", "-f", "origin", c+":refs/heads/"+decision.Branch(id))
}

// mergedOnce proposes, approves and merges a remediation, and returns its head.
func mergedOnce(t *testing.T, adjust func(*runbooks.Runbook, *runbooks.Policy)) (cfg, infra, id, head string) {
	t.Helper()
	cfg, infra, id = proposed(t, adjust)
	head = gittest.Run(t, infra, "rev-parse", decision.Branch(id))
	aliceApproves(t, cfg, id)
	reconcileWants(t, cfg, "merged: ")
	return cfg, infra, id, head
}

func TestGateBypassMergedAgain(t *testing.T) {
	autoMerge := func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium"}
		p.Spec.Approvals.Medium = 0
	}
	cases := []struct {
		name   string
		adjust func(*runbooks.Runbook, *runbooks.Policy)
		attack func(t *testing.T, cfg, infra, id, head string)
		want   string
	}{
		{"the same tree under a new hash", autoMerge, func(t *testing.T, cfg, infra, id, head string) {
			resign(t, cfg, infra, id, head, "")
		}, "already merged as"},
		{"a new head of the id within its runbook's cooldown", func(rb *runbooks.Runbook, p *runbooks.Policy) {
			autoMerge(rb, p)
			rb.Spec.Cooldown = runbooks.Duration(time.Hour)
		}, func(t *testing.T, cfg, infra, id, head string) {
			resign(t, cfg, infra, id, head, "again")
		}, "runbook cooldown: merged last as"},
		{"a new head of the id after an operator reverted its merge", autoMerge, func(t *testing.T, cfg, infra, id, head string) {
			work := filepath.Join(t.TempDir(), "w")
			gittest.Run(t, "", "clone", "-q", infra, work)
			gittest.Run(t, work, "config", "user.name", "operator")
			gittest.Run(t, work, "config", "user.email", "operator@localhost")
			gittest.Run(t, work, "revert", "--no-edit", "-m", "1", "HEAD")
			gittest.Run(t, work, "push", "-q", "origin", "main")
			resign(t, cfg, infra, id, head, "again")
		}, "an operator reverted its merge"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, infra, id, head := mergedOnce(t, tc.adjust)
			tc.attack(t, cfg, infra, id, head)
			before := gittest.Run(t, infra, "rev-parse", "main")
			reconcileWants(t, cfg, tc.want)
			if after := gittest.Run(t, infra, "rev-parse", "main"); after != before {
				t.Fatalf("merged again: %s", gittest.Run(t, infra, "log", "--oneline", "-3", "main"))
			}
		})
	}
}

// On GitHub the merge commit is GitHub's: the remediator's sealed record binds it
// (records.KindMerged), its signature is not on it. The merge-time checks took only
// signed merges for the remediator's, so on GitHub they never held. Here the first
// merge is made as GitHub makes it; the second proposal then goes through the same
// gate as on GitHub.
func TestGateBypassMergedAgainAfterAMergeGitHubMade(t *testing.T) {
	cases := []struct {
		name     string
		cooldown time.Duration
		extra    string
		want     string
	}{
		{"the same tree under a new hash", 0, "", "already merged as"},
		{"a new head of the id within its runbook's cooldown", time.Hour, "again", "runbook cooldown: merged last as"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, infra, id := proposed(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
				p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium"}
				p.Spec.Approvals.Medium = 0
				rb.Spec.Cooldown = runbooks.Duration(tc.cooldown)
			})
			head := gittest.Run(t, infra, "rev-parse", decision.Branch(id))
			work := filepath.Join(t.TempDir(), "w")
			gittest.Run(t, "", "clone", "-q", infra, work)
			trailers := gittest.Run(t, work, "log", "-1", "--format=%(trailers:only,unfold)", head)
			gittest.Run(t, work, "-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "merge", "-q", "--no-ff", "-m", "Merge pull request #1\n\n"+trailers, head)
			merge := gittest.Run(t, work, "rev-parse", "HEAD")
			body := records.MergeRecordBody(id, plumbing.NewHash(gittest.Run(t, work, "rev-parse", "HEAD^1")), plumbing.NewHash(head), plumbing.NewHash(gittest.Run(t, work, "rev-parse", "HEAD^{tree}")))
			gittest.Run(t, work, "notes", "--ref=remediation-merges", "add", "-F", sealedNote(t, cfg, records.KindMerged, merge, body), "HEAD")
			gittest.Run(t, work, "push", "-q", "origin", "main", "refs/notes/remediation-merges")

			resign(t, cfg, infra, id, head, tc.extra)
			before := gittest.Run(t, infra, "rev-parse", "main")
			reconcileWants(t, cfg, tc.want)
			if after := gittest.Run(t, infra, "rev-parse", "main"); after != before {
				t.Fatalf("merged again: %s", gittest.Run(t, infra, "log", "--oneline", "-3", "main"))
			}
		})
	}
}
