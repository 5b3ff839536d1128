package records_test

import (
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// Which refusals a new proposal under the current catalog fixes (the proposal is
// closed and made again), and which it does not (it waits): a rollback is never
// proposed again, nor is an anomaly the catalog no longer acts on.
func TestSupersededRefusals(t *testing.T) {
	cases := []struct {
		name       string
		edit       func(a *artifact.Artifact)
		superseded bool
	}{
		{"a changed runbook version", func(a *artifact.Artifact) { a.RunbookVersion = "000000000000" }, true},
		{"approvals the catalog changed", func(a *artifact.Artifact) { a.RequiredApprovals = 0 }, true},
		{"plan limits the catalog changed", func(a *artifact.Artifact) { a.Limits.AllowedAddresses = []string{"**"} }, true},
		{"a runbook gone", func(a *artifact.Artifact) { a.Runbook = "restart-everything" }, false},
		{"an anomaly no runbook acts on", func(a *artifact.Artifact) { a.Anomaly.Labels["alertname"] = "Other" }, false},
		{"a rollback whose approvals the catalog changed", func(a *artifact.Artifact) {
			a.RollbackOf, a.ID, a.RequiredApprovals = a.ID, a.ID+artifact.RollbackSuffix, 0
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cat, router, art := termsCatalog(t)
			tc.edit(art)
			_, r := records.TermsOf(cat, router, art.ID, art)
			if r == nil || r.Superseded != tc.superseded {
				t.Fatalf("refusal %+v, want superseded %v", r, tc.superseded)
			}
		})
	}
}
