package records_test

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// termsCatalog is one runbook and a production policy needing one approval at medium.
func termsCatalog(t *testing.T) (*runbooks.Catalog, *runbooks.Router, *artifact.Artifact) {
	t.Helper()
	rb := runbooks.NewRunbook("scale-out-api")
	rb.Spec.Risk = runbooks.RiskMedium
	rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`}, GroupBy: []string{"service"}}
	rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current * 2"}}
	rb.Spec.Plan.AllowedAddresses = []string{"module.api.*"}
	pol := runbooks.NewPolicy("production")
	pol.Spec.Selector.Matchers = []string{`env="prod"`}
	pol.Spec.Approvals = runbooks.Approvals{Low: 0, Medium: 1, High: 2, Critical: 2}
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
	id := decision.ID("scale-out-api", "service=api")
	art := &artifact.Artifact{ID: id, Runbook: "scale-out-api", RunbookVersion: version, Policy: "production", Risk: "medium",
		RequiredApprovals: 1, Rollback: rb.Spec.Rollback, Limits: artifact.LimitsOf(rb, pol), Verify: artifact.VerifyOf(rb, pol),
		Anomaly: artifact.Anomaly{Labels: map[string]string{"alertname": "HighLatency", "service": "api", "env": "prod"}}}
	return cat, router, art
}

func TestTermsComeFromTheCatalog(t *testing.T) {
	cases := []struct {
		name string
		edit func(a *artifact.Artifact)
		want string
	}{
		{"agrees", func(*artifact.Artifact) {}, ""},
		{"risk downgraded", func(a *artifact.Artifact) { a.Risk = "low" }, `risk is "low" in the artifact, "medium" in the catalog`},
		{"approvals lowered", func(a *artifact.Artifact) { a.RequiredApprovals = 0 }, "required_approvals is 0 in the artifact, 1 in the catalog"},
		{"policy renamed to an unknown one", func(a *artifact.Artifact) { a.Policy = "no-such-policy" }, `policy is "no-such-policy" in the artifact, "production" in the catalog`},
		{"plan limits widened", func(a *artifact.Artifact) { a.Limits.AllowedAddresses = []string{"**"} }, "plan_limits is"},
		{"rollback switched off", func(a *artifact.Artifact) { a.Rollback = "none" }, `rollback is "none"`},
		{"version gone", func(a *artifact.Artifact) { a.RunbookVersion = "000000000000" }, "which the catalog no longer holds"},
		{"another runbook named", func(a *artifact.Artifact) { a.Runbook = "restart-everything" }, "runbook restart-everything is no longer in the catalog"},
		{"the anomaly relabelled to another target", func(a *artifact.Artifact) { a.Anomaly.Labels["service"] = "db" }, "the recorded anomaly is remediation"},
		{"the anomaly relabelled out of the policy", func(a *artifact.Artifact) { delete(a.Anomaly.Labels, "env") }, `policy is "production" in the artifact, "builtin-default" in the catalog`},
		{"the anomaly no runbook acts on", func(a *artifact.Artifact) { a.Anomaly.Labels["alertname"] = "Other" }, "no enabled runbook of the catalog acts"},
		{"the id of another proposal", func(a *artifact.Artifact) { a.ID = "scale-out-api-0000000000" }, "the artifact names remediation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat, router, art := termsCatalog(t)
			id := art.ID
			c.edit(art)
			terms, refusal := records.TermsOf(cat, router, id, art)
			switch {
			case c.want == "" && refusal != nil:
				t.Fatalf("refused: %v", refusal)
			case c.want == "" && (terms.Required != 1 || terms.Policy.Metadata.Name != "production" || terms.Risk != runbooks.RiskMedium):
				t.Fatalf("terms %+v", terms)
			case c.want != "" && (refusal == nil || !strings.Contains(refusal.Reason, c.want)):
				t.Fatalf("want a refusal with %q, got %v", c.want, refusal)
			}
		})
	}
}

// A rollback may merge after its runbook was disabled or deleted, at critical risk
// when the runbook is gone.
func TestRollbackTerms(t *testing.T) {
	cat, router, art := termsCatalog(t)
	orig := art.ID
	art.ID, art.RollbackOf, art.Rollback = orig+"-rollback", orig, "none"
	empty, err := runbooks.NewCatalog(nil, cat.Policies)
	if err != nil {
		t.Fatal(err)
	}
	emptyRouter, err := runbooks.NewRouter(empty)
	if err != nil {
		t.Fatal(err)
	}
	if _, refusal := records.TermsOf(cat, router, art.ID, art); refusal != nil {
		t.Fatalf("rollback refused: %v", refusal)
	}
	// Runbook gone: the undo still merges, under the approvals of critical risk.
	terms, refusal := records.TermsOf(empty, emptyRouter, art.ID, art)
	if refusal != nil || terms.Risk != runbooks.RiskCritical || terms.Required != 2 {
		t.Fatalf("rollback of a deleted runbook: %+v %v", terms, refusal)
	}
	if _, refusal := records.TermsOf(cat, router, orig+"-rollback", &artifact.Artifact{ID: orig + "-rollback", RollbackOf: "other"}); refusal == nil {
		t.Fatal("a rollback of another remediation under this name was accepted")
	}
}
