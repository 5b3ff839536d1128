package records

import (
	"errors"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// TestRuleNeedOfAnUnreadRecordIsAPerson: auto-merge terms that ask for a record are
// unproven when the record cannot be read: the need returned with the error is one
// person's approval saying why, never an auto-merge, so whoever shows it (route,
// the provider's data source, a notification) says no less than the gate asks.
func TestRuleNeedOfAnUnreadRecordIsAPerson(t *testing.T) {
	pol := runbooks.NewPolicy("staging")
	pol.Spec.Approvals.Low = 0
	pol.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "low", MinVerifiedRuns: 2}
	n, err := NeedOf(pol, runbooks.RiskLow, func() (Record, error) { return Record{}, errors.New("no outcomes repository") })
	if err == nil || n.Approvals != 1 || n.AutoMerge || !strings.Contains(n.Why, "no outcomes repository") {
		t.Fatalf("need %+v, err %v; want one approval saying why", n, err)
	}
	n, err = NeedOf(pol, runbooks.RiskLow, func() (Record, error) { return Record{Streak: 2, Verified: 2}, nil })
	if err != nil || n.Approvals != 0 || !n.AutoMerge {
		t.Fatalf("earned: need %+v, err %v; want auto-merge", n, err)
	}
}
