package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// The rule "what the remediator saw is what it decided on" (remediator/TRUST.md):
// check reports and approvals live in notes anyone with push access can rewind.

func requirePlanCheck(_ *runbooks.Runbook, p *runbooks.Policy) {
	p.Spec.RequiredChecks = []string{"remediation/plan-check"}
}

// CI reported success, then (a re-run) failure; the pass saw the failure. Someone
// rewinds the checks note to before the failure: the success it had overtaken won
// again, and the proposal merged.
func TestGateBypassRewoundChecksNote(t *testing.T) {
	cfg, infra, id := proposed(t, requirePlanCheck)
	aliceApproves(t, cfg, id)
	now := time.Now()
	success := checkReport(t, cfg, infra, id, "ci", "ci@example.com", forge.CheckSuccess, now.Add(-time.Hour))
	setChecksNote(t, infra, id, success)
	gittest.Run(t, infra, "notes", "--ref=remediation-checks", "append", "-m",
		strings.TrimSpace(string(checkReport(t, cfg, infra, id, "ci", "ci@example.com", forge.CheckFailure, now))), decision.Branch(id))
	before := gittest.Run(t, infra, "rev-parse", "main")
	reconcileWants(t, cfg, "failed: remediation/plan-check")

	// The rewind: the note as it stood before CI's failure.
	setChecksNote(t, infra, id, success)
	reconcileWants(t, cfg, "failed: remediation/plan-check")
	if after := gittest.Run(t, infra, "rev-parse", "main"); after != before {
		t.Fatalf("merged after the checks note was rewound: %s", gittest.Run(t, infra, "log", "--oneline", "-3", "main"))
	}
}

// The merge names what it was decided on; audit shows it, and flags a note that no
// longer holds it.
func TestAuditVerifyFlagsChangedEvidence(t *testing.T) {
	cfg, infra, id := proposed(t, requirePlanCheck)
	aliceApproves(t, cfg, id)
	setChecksNote(t, infra, id, checkReport(t, cfg, infra, id, "ci", "ci@example.com", forge.CheckSuccess, time.Now()))
	reconcileWants(t, cfg, "merged: ")
	msg := gittest.Run(t, infra, "log", "-1", "--format=%B", "main")
	if !strings.Contains(msg, "Decided-On: approval alice@example.com sha256:") || !strings.Contains(msg, "Decided-On: check remediation/plan-check success by ci@example.com sha256:") {
		t.Fatalf("the merge names no evidence:\n%s", msg)
	}
	if _, out, _ := cli(t, "audit", "--repository", infra, "--format", "json"); !strings.Contains(out, `"decided_on":["approval alice@example.com sha256:`) {
		t.Fatalf("audit shows no decided_on:\n%s", out)
	}
	if code, out, errs := cli(t, "audit", "verify", "--repository", infra, "--config", cfg); code != 0 {
		t.Fatalf("audit verify of an honest merge: exit %d\n%s%s", code, out, errs)
	}

	cases := []struct {
		name   string
		rewind func(t *testing.T)
	}{
		{"the check report it decided on replaced by a failure", func(t *testing.T) {
			setChecksNote(t, infra, id, checkReport(t, cfg, infra, id, "ci", "ci@example.com", forge.CheckFailure, time.Now()))
		}},
		{"the check report it decided on deleted", func(t *testing.T) {
			gittest.Run(t, infra, "notes", "--ref=remediation-checks", "remove", decision.Branch(id))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.rewind(t)
			code, out, errs := cli(t, "audit", "verify", "--repository", infra, "--config", cfg)
			if code != 1 || !strings.Contains(out, "evidence-changed") || !strings.Contains(out, "check remediation/plan-check success by ci@example.com") {
				t.Fatalf("audit verify after the rewind: exit %d\n%s%s", code, out, errs)
			}
		})
	}
}
