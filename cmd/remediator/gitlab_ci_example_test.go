package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// gitlabJob is a job of examples/ci/gitlab-ci.yml, with what it extends.
type gitlabJob struct {
	Extends      string            `yaml:"extends"`
	BeforeScript []string          `yaml:"before_script"`
	Variables    map[string]string `yaml:"variables"`
	Script       []string          `yaml:"script"`
}

// script is the job's before_script (its own, or what it extends) and script, as a
// runner runs them: one shell, line after line.
func (j gitlabJob) script(jobs map[string]gitlabJob) string {
	before := j.BeforeScript
	if before == nil && j.Extends != "" {
		before = jobs[j.Extends].BeforeScript
	}
	return strings.Join(append(slices.Clone(before), j.Script...), "\n")
}

// TestGitLabCIExample: the jobs of examples/ci/gitlab-ci.yml, run in a shell as a
// runner runs them (GitLab's predefined variables, the job's, the CI/CD variables it
// names) against the GitLab test server. The plan check of the remediator's merge
// request sets remediation/plan-check as CI's own user and one note; that status
// (a policy's required check) and alice's approval merge it; the apply job applies
// main and sets terraform-apply on the merge as CI's user. A plan beyond the
// catalog's limits fails the job and its status.
func TestGitLabCIExample(t *testing.T) {
	var jobs map[string]gitlabJob
	readExampleYAML(t, "gitlab-ci.yml", &jobs)
	check, apply := jobs["remediation-plan-check"], jobs["remediation-apply"]
	if len(check.Script) < 4 || len(apply.Script) < 2 {
		t.Fatalf("jobs: %+v", jobs)
	}
	w := gitlabSetupWith(t, map[string]string{
		"envs/prod/main.tf":                 "variable \"replicas\" {\n  type = number\n}\n\nresource \"terraform_data\" \"replicas\" {\n  input = var.replicas\n}\n",
		"envs/prod/api-gateway.auto.tfvars": "replicas = 4\n",
	}, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/prod/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current * 2"}}
		rb.Spec.Plan = runbooks.RunbookPlan{AllowedAddresses: []string{"terraform_data.replicas"}, AllowedActions: []string{"update"}, MaxChanges: 1}
		p.Spec.RequiredChecks = []string{"remediation/plan-check"}
	})
	if code, out, errs := proposeRun(t, w.cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	mr := w.mr(1)

	// CI's tools: this remediator, and terraform; main is applied, then the runner
	// checks out the merge request's head.
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "remediator"), ".").CombinedOutput(); err != nil {
		t.Fatalf("build remediator: %v\n%s", err, out)
	}
	path := bin + string(os.PathListSeparator) + filepath.Dir(cliBinary(t, "terraform")) + string(os.PathListSeparator) + os.Getenv("PATH")
	checkout := filepath.Join(t.TempDir(), "infra")
	gittest.Run(t, "", "clone", "-q", w.dir, checkout)
	shell(t, filepath.Join(checkout, "envs/prod"), []string{"PATH=" + path}, "terraform init -input=false -no-color >/dev/null && terraform apply -input=false -auto-approve -no-color >/dev/null")
	gittest.Run(t, checkout, "checkout", "-q", mr.Source)
	env := func(job gitlabJob, extra ...string) []string {
		e := []string{"PATH=" + path, "CI_SERVER_URL=" + w.s.URL, "CI_PROJECT_PATH=" + glProject, "CI_PROJECT_DIR=" + checkout,
			"REMEDIATION_CI_TOKEN=ci-glpat", "REMEDIATION_CATALOG_URL=" + filepath.Join(filepath.Dir(w.cfg), "catalog.git"),
			"REMEDIATION_CATALOG_TOKEN=unused-for-a-local-catalog", "TMPDIR=" + t.TempDir()}
		for k, v := range job.Variables {
			e = append(e, fmt.Sprintf("%s=%s", k, v))
		}
		return append(e, extra...)
	}
	mrVars := []string{"CI_PIPELINE_SOURCE=merge_request_event", "CI_MERGE_REQUEST_IID=1", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main",
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=" + mr.Source, "CI_COMMIT_SHA=" + mr.SHA}
	out := shell(t, checkout, env(check, mrVars...), check.script(jobs))
	if !strings.Contains(out, "scale-out-api") || !strings.Contains(out, "terraform_data.replicas") {
		t.Fatalf("the plan check did not report the remediation:\n%s", out)
	}
	if st := w.s.Statuses(glProject, mr.SHA); !slices.Contains(st, "remediation/plan-check=success by ci") {
		t.Fatalf("statuses on the head: %v\n%s", st, out)
	}
	if notes := w.mr(1).Notes; len(notes) != 1 || !strings.Contains(notes[0], "terraform_data.replicas") {
		t.Fatalf("notes: %q", notes)
	}
	if _, err := os.Stat(filepath.Join(checkout, check.Variables["TF_ROOT"], "plan-check.md")); err != nil {
		t.Fatalf("no report for the job's artifacts: %v", err)
	}

	// alice approves; the pass merges at the head the check reported on.
	w.approve("alice", 1)
	if out := reconcileGH(t, w.cfg); !strings.Contains(out, "merged: ") {
		t.Fatalf("merge: %s", out)
	}
	merge := w.mr(1).MergeSHA
	gittest.Run(t, checkout, "fetch", "-q", "origin", "main")
	gittest.Run(t, checkout, "checkout", "-q", merge)
	out = shell(t, checkout, env(apply, "CI_PIPELINE_SOURCE=push", "CI_COMMIT_BRANCH=main", "CI_COMMIT_SHA="+merge), apply.script(jobs))
	if st := w.s.Statuses(glProject, merge); !slices.Contains(st, "terraform-apply=success by ci") {
		t.Fatalf("statuses on the merge: %v\n%s", st, out)
	}

	// A catalog whose limits the same plan breaks: the job fails, and so does its status.
	w2 := gitlabSetupWith(t, map[string]string{
		"envs/prod/main.tf":                 "variable \"replicas\" {\n  type = number\n}\n\nresource \"terraform_data\" \"replicas\" {\n  input = var.replicas\n}\n",
		"envs/prod/api-gateway.auto.tfvars": "replicas = 4\n",
	}, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/prod/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current * 2"}}
		rb.Spec.Plan = runbooks.RunbookPlan{AllowedAddresses: []string{"terraform_data.other"}, AllowedActions: []string{"update"}, MaxChanges: 1}
	})
	if code, out, errs := proposeRun(t, w2.cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "infra")
	gittest.Run(t, "", "clone", "-q", w2.dir, bad)
	shell(t, filepath.Join(bad, "envs/prod"), []string{"PATH=" + path}, "terraform init -input=false -no-color >/dev/null && terraform apply -input=false -auto-approve -no-color >/dev/null")
	branch := decision.Branch(decision.ID("scale-out-api", "service=api-gateway"))
	gittest.Run(t, bad, "checkout", "-q", branch)
	badEnv := append(env(check, "CI_PIPELINE_SOURCE=merge_request_event", "CI_MERGE_REQUEST_IID=1", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main",
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME="+branch, "CI_COMMIT_SHA="+w2.mr(1).SHA), "CI_SERVER_URL="+w2.s.URL, "CI_PROJECT_DIR="+bad,
		"REMEDIATION_CATALOG_URL="+filepath.Join(filepath.Dir(w2.cfg), "catalog.git"))
	if out, err := shellResult(bad, badEnv, check.script(jobs)); err == nil || !strings.Contains(out, "terraform_data.replicas") {
		t.Fatalf("a plan beyond the catalog's limits passed the GitLab job: %v\n%s", err, out)
	}
	if st := w2.s.Statuses(glProject, w2.mr(1).SHA); !slices.Contains(st, "remediation/plan-check=failed by ci") {
		t.Fatalf("statuses after the failed check: %v", st)
	}
}
