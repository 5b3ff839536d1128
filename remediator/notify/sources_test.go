package notify

import (
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// TestProposalSaysWhatTheGateNeeds: the "waiting for approval" event says the
// approvals the merge gate will ask (records.NeedOf), not the policy's bare count
// for the risk: a risk the policy asks no approval for but lets no bot merge alone
// waits for one person; auto-merge terms that need a record nobody read wait too.
func TestProposalSaysWhatTheGateNeeds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		approvals int
		autoMerge runbooks.AutoMerge
		want      int
		wantAuto  bool
	}{
		{name: "the policy's count", approvals: 2, want: 2},
		{name: "no approval but no bot may merge", approvals: 0, autoMerge: runbooks.AutoMerge{MaxRisk: "none"}, want: 1},
		{name: "auto-merge allowed", approvals: 0, autoMerge: runbooks.AutoMerge{MaxRisk: "low"}, want: 0, wantAuto: true},
		{name: "auto-merge earned by a record not read", approvals: 0, autoMerge: runbooks.AutoMerge{MaxRisk: "low", MinVerifiedRuns: 3}, want: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rb := runbooks.NewRunbook("scale-out")
			rb.Spec.Risk = runbooks.RiskLow
			pol := runbooks.NewPolicy("production")
			pol.Spec.Approvals.Low = tc.approvals
			pol.Spec.AutoMerge = tc.autoMerge
			cat, err := runbooks.NewCatalog([]*runbooks.Runbook{rb}, []*runbooks.Policy{pol})
			if err != nil {
				t.Fatal(err)
			}
			f := Facts{Catalog: cat, Now: func() time.Time { return time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) }}
			res := propose.Result{ID: "scale-out-1", Action: decision.Opened, Commit: "0123456789abcdef0123456789abcdef01234567",
				Runbook: "scale-out", Policy: "production", Risk: string(runbooks.RiskLow)}
			e, ok := f.Proposal(res, intake.Anomaly{})
			if !ok || e.Approval == nil {
				t.Fatalf("no event: %+v", e)
			}
			if e.Approval.Required != tc.want || e.Approval.AutoMerge != tc.wantAuto {
				t.Fatalf("approval %+v, want %d required, auto-merge %v", e.Approval, tc.want, tc.wantAuto)
			}
		})
	}
}
