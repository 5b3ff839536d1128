package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// On GitHub the merge commit is GitHub's, not signed by the remediator: its sealed
// merge record on the head is what shows a merge was its own. An auto-merge (no
// review to record) is the remediator's all the same, and a pull request a person
// merged through GitHub is not, however good its review.
func TestGitHubMergesAreTheRemediatorsOnlyWhenItMadeThem(t *testing.T) {
	autoMerge := func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = nil
		p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: string(runbooks.RiskMedium)}
		p.Spec.Approvals.Medium = 0
	}
	t.Run("auto-merged by the remediator", func(t *testing.T) {
		cfg, srv, bare := githubSetup(t, autoMerge)
		if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
			t.Fatal(errs)
		}
		if out := reconcileGH(t, cfg); !strings.Contains(out, "merged: ") {
			t.Fatalf("reconcile: %s", out)
		}
		head := srv.PullRequests("acme", "infra")[0].HeadSHA
		if note := gittest.Run(t, bare, "notes", "--ref="+records.MergesRef, "show", head); !strings.Contains(note, "BEGIN SSH SIGNATURE") {
			t.Fatalf("merge record on the head:\n%s", note)
		}
		if code, out, errs := cli(t, "audit", "verify", "--repository", bare, "--config", cfg); code != 0 {
			t.Fatalf("audit verify of an auto-merge: %d %s %s", code, out, errs)
		}
	})
	t.Run("merged by a person through GitHub", func(t *testing.T) {
		cfg, srv, bare := githubSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredReviewers = nil })
		srv.AddToken("alice-token", "alice")
		if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
			t.Fatal(errs)
		}
		approveREST(t, srv, "alice-token", 1)
		pr := srv.PullRequests("acme", "infra")[0]
		// With the remediator's trailers, as its own merges carry them.
		msg := gittest.Run(t, bare, "log", "-1", "--format=%B", pr.HeadSHA)
		_, trailers, _ := strings.Cut(msg, "Remediation-Id:")
		in, _ := json.Marshal(map[string]string{"sha": pr.HeadSHA, "commit_title": "Merge remediation", "commit_message": "Remediation-Id:" + trailers + "Approved-by: alice\n"})
		if code, body := restDo(t, srv, http.MethodPut, "alice-token", "/repos/acme/infra/pulls/1/merge", string(in)); code != http.StatusOK {
			t.Fatalf("merge as alice: %d %s", code, body)
		}
		code, out, _ := cli(t, "audit", "verify", "--repository", bare, "--config", cfg)
		if code != 1 || !strings.Contains(out, "merge-not-by-remediator") || !strings.Contains(out, "no merge record of the remediator binds its parents and tree") {
			t.Fatalf("audit verify of a merge by hand: %d %s", code, out)
		}
	})
}

// GitHub lets anyone with write access set a commit status, and any installed App
// make a check run. With forge.check_reporters the remediator counts only the
// reporters named, as branch protection pins a required check to its source: a
// collaborator's green "terraform-plan" status and another App's run of the same
// name leave the gate closed; CI's run opens it.
func TestGitHubChecksCountOnlyFromTheirReporters(t *testing.T) {
	cfg, srv, _ := githubSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = nil
		p.Spec.RequiredChecks = []string{"terraform-plan"}
		p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: string(runbooks.RiskMedium)}
		p.Spec.Approvals.Medium = 0
	})
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, strings.Replace(string(data), "  token_env: TEST_GITHUB_TOKEN\n", "  token_env: TEST_GITHUB_TOKEN\n  check_reporters: [ci]\n", 1))
	srv.AddCollaborator("mallory")
	srv.AddToken("mallory-token", "mallory")
	if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
		t.Fatal(errs)
	}
	pr := srv.PullRequests("acme", "infra")[0]
	reconcile := func() string { t.Helper(); return reconcileGH(t, cfg) }
	if code, body := restAs(t, srv, "mallory-token", "/repos/acme/infra/statuses/"+pr.HeadSHA, `{"state":"success","context":"terraform-plan"}`); code != http.StatusCreated {
		t.Fatalf("mallory's status: %d %s", code, body)
	}
	srv.CheckRunBy("mallory-app", "acme", "infra", pr.HeadSHA, "terraform-plan", "completed", "success")
	if out := reconcile(); !strings.Contains(out, "not reported yet: terraform-plan") {
		t.Fatalf("a check by someone else opened the gate: %s", out)
	}
	srv.CheckRun("acme", "infra", pr.HeadSHA, "terraform-plan", "completed", "success")
	if out := reconcile(); !strings.Contains(out, "merged: ") {
		t.Fatalf("CI's check: %s", out)
	}
}
