package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// The rule "dates are claims" (remediator/TRUST.md): someone who may push to the
// base pushes a commit dated long ago (or far ahead) on top of the remediator's
// merges. Before the rule, the walks of the base stopped at the first commit older
// than their window, so what lay beneath (the last merge, a failure) was not seen.

// pushDated pushes a commit of an unrelated file onto main with both dates set to date.
func pushDated(t *testing.T, infra, date string) {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", infra, work)
	gittest.WriteFile(t, filepath.Join(work, "notes-"+date[:4]+".txt"), date+"\n")
	gittest.Run(t, work, "add", "-A")
	t.Setenv("GIT_COMMITTER_DATE", date)
	t.Setenv("GIT_AUTHOR_DATE", date)
	gittest.Run(t, work, "-c", "user.name=mallory", "-c", "user.email=mallory@localhost", "commit", "-qm", "docs")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:main")
}

var dated = []struct{ name, date string }{
	{"back-dated", "2001-01-01T00:00:00Z"},
	{"future-dated", "2099-01-01T00:00:00Z"},
}

// The cooldown when proposing counts from the remediator's last merge of the target.
func TestGateBypassDatedCommitHidesTheCooldown(t *testing.T) {
	for _, d := range dated {
		t.Run(d.name, func(t *testing.T) {
			cfg, infra, _, _ := mergedOnce(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
				p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium"}
				p.Spec.Approvals.Medium = 0
				rb.Spec.Cooldown = runbooks.Duration(time.Hour)
			})
			pushDated(t, infra, d.date)
			code, out, errs := proposeRun(t, cfg, alert("api-gateway"))
			if code != 0 || !strings.Contains(out, "cooldown: this target was last remediated at") {
				t.Fatalf("propose within the cooldown: exit %d\n%s%s", code, out, errs)
			}
		})
	}
}

// The circuit breaker counts the failures beneath the dated commit.
func TestGateBypassDatedCommitHidesAFailure(t *testing.T) {
	for _, d := range dated {
		t.Run(d.name, func(t *testing.T) {
			cfg, infra, id := proposed(t, recordsPolicy)
			addRecordedMerge(t, cfg, infra, proposalArtifact(t, infra, id).RunbookVersion, "failed")
			pushDated(t, infra, d.date)
			before := gittest.Run(t, infra, "rev-parse", "main")
			aliceApproves(t, cfg, id)
			reconcileWants(t, cfg, "circuit breaker")
			if after := gittest.Run(t, infra, "rev-parse", "main"); after != before {
				t.Fatalf("merged past the breaker: %s", gittest.Run(t, infra, "log", "--oneline", "-3", "main"))
			}
		})
	}
}
