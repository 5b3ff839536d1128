package records_test

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// rulesCatalog is a catalog of one runbook under one policy, and the artifact its
// proposal for the API's latency would carry.
func rulesCatalog(t *testing.T, enabled bool) (*runbooks.Catalog, *runbooks.Router, *artifact.Artifact) {
	t.Helper()
	rb := runbooks.NewRunbook("scale-out-api")
	rb.Spec.Enabled = enabled
	rb.Spec.Risk = runbooks.RiskHigh
	rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`}, GroupBy: []string{"service"}}
	rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current * 2"}}
	pol := runbooks.NewPolicy("production")
	pol.Spec.Selector.Matchers = []string{`env="prod"`}
	pol.Spec.Approvals = runbooks.Approvals{Low: 0, Medium: 1, High: 2, Critical: 3}
	cat, err := runbooks.NewCatalog([]*runbooks.Runbook{rb}, []*runbooks.Policy{pol})
	if err != nil {
		t.Fatal(err)
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		t.Fatal(err)
	}
	version, err := runbooks.Version(rb)
	if err != nil {
		t.Fatal(err)
	}
	art := &artifact.Artifact{ID: decision.ID("scale-out-api", "service=api"), Runbook: "scale-out-api", RunbookVersion: version,
		Policy: "production", Risk: "high", RequiredApprovals: 2, Rollback: rb.Spec.Rollback, Limits: artifact.LimitsOf(rb, pol),
		Verify: artifact.VerifyOf(rb, pol), Anomaly: artifact.Anomaly{Labels: map[string]string{"alertname": "HighLatency", "service": "api", "env": "prod"}}}
	return cat, router, art
}

func TestRuleTermsDisabledRunbookMergesNothingButItsRollbacks(t *testing.T) {
	cat, router, art := rulesCatalog(t, false)
	if _, r := records.TermsOf(cat, router, art.ID, art); r == nil || !strings.Contains(r.Reason, "runbook scale-out-api is disabled") {
		t.Fatalf("a proposal of a disabled runbook: %v", r)
	}
	orig := art.ID
	art.ID, art.RollbackOf = orig+artifact.RollbackSuffix, orig
	terms, r := records.TermsOf(cat, router, art.ID, art)
	if r != nil || terms.Risk != runbooks.RiskHigh || terms.Required != 2 {
		t.Fatalf("the rollback of a disabled runbook's merge: %+v %v", terms, r)
	}
	art.Risk = "low"
	if _, r := records.TermsOf(cat, router, art.ID, art); r == nil || !strings.Contains(r.Reason, `risk is "low" in the artifact, "high" in the catalog`) {
		t.Fatalf("a rollback claiming a lower risk than its runbook's: %v", r)
	}
	art.Risk = "high"
	art.RequiredApprovals = 1
	if _, r := records.TermsOf(cat, router, art.ID, art); r == nil || !strings.Contains(r.Reason, "required_approvals is 1 in the artifact, 2 in the catalog") {
		t.Fatalf("a rollback claiming fewer approvals: %v", r)
	}
}

func TestRuleTermsEmptyAndMissingListsAgree(t *testing.T) {
	cat, router, art := rulesCatalog(t, true)
	art.Limits.AllowedAddresses, art.Limits.AllowedActions, art.Limits.DeniedResourceTypes = []string{}, []string{}, []string{}
	if _, r := records.TermsOf(cat, router, art.ID, art); r != nil {
		t.Fatalf("empty lists where the catalog has none: %v", r)
	}
	art.Limits.DeniedResourceTypes = []string{"aws_iam_role"}
	if _, r := records.TermsOf(cat, router, art.ID, art); r == nil || !strings.Contains(r.Reason, "plan_limits is") {
		t.Fatalf("a list the catalog does not have: %v", r)
	}
}

func TestRuleTermsComeWithTheirDisagreement(t *testing.T) {
	cat, router, art := rulesCatalog(t, true)
	art.Verify.Within = "1s"
	terms, r := records.TermsOf(cat, router, art.ID, art)
	if r == nil || !strings.Contains(r.Reason, "verify is") || terms.Policy == nil || terms.Required != 2 || terms.AutoMerge {
		t.Fatalf("a disagreement refuses, with the catalog's terms: %+v %v", terms, r)
	}
}
