package records

import (
	"fmt"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Need is what a proposal needs before it merges: the one answer `route`,
// `reconcile`, `status` and the status page all give. The policy's approvals for
// the risk are where it starts, not the answer: a risk the policy asks no approval
// for still needs one person unless the policy lets it merge alone and the runbook
// version has earned that.
type Need struct {
	// Approvals is how many approvals on the head commit it needs.
	Approvals int `json:"approvals"`
	// Why says why Approvals is not the policy's count for the risk, when it is not.
	Why string `json:"why,omitempty"`
	// Reviewers must be among the approvers (a login, a principal or an org/team).
	Reviewers []string `json:"reviewers,omitempty"`
	// Checks must be green on the head commit.
	Checks []string `json:"checks,omitempty"`
	// AutoMerge is true when it merges with no approval at all.
	AutoMerge bool `json:"auto_merge"`
}

// NeedOf is what a proposal at the risk needs under the policy. record reads the
// runbook version's record; it is called only when the policy's auto-merge terms
// ask for one. A record that cannot be read proves nothing: the need it returns
// with the error is one person's approval, saying why, for those who show it.
func NeedOf(pol *runbooks.Policy, risk runbooks.Risk, record func() (Record, error)) (Need, error) {
	n := Need{Approvals: pol.Spec.Approvals.For(risk), Reviewers: pol.Spec.RequiredReviewers, Checks: pol.Spec.RequiredChecks}
	if n.Approvals > 0 {
		return n, nil
	}
	am := pol.Spec.AutoMerge
	if !am.Allows(risk) {
		// Nobody has to approve, but no bot may merge it alone either.
		n.Approvals = 1
		n.Why = fmt.Sprintf("policy %s asks no approval at %s risk but lets no %s-risk change merge without a human (auto_merge.max_risk %s)",
			pol.Metadata.Name, risk, risk, maxRisk(am))
		return n, nil
	}
	if am.MinVerifiedRuns > 0 || am.MinSuccessRate > 0 {
		rec, err := record()
		if err != nil {
			err = fmt.Errorf("read the record auto-merge is earned by: %w", err)
			n.Approvals, n.Why = 1, err.Error()
			return n, err
		}
		if ok, why := rec.Earned(am); !ok {
			n.Approvals, n.Why = 1, "no auto-merge yet: "+why
			return n, nil
		}
	}
	n.AutoMerge = true
	return n, nil
}

func maxRisk(am runbooks.AutoMerge) string {
	if am.MaxRisk == "" {
		return runbooks.AutoMergeNone
	}
	return am.MaxRisk
}

// String says the need in one line: "1 approval(s) (why); reviewers a, b; checks c".
func (n Need) String() string {
	s := fmt.Sprintf("%d approval(s)", n.Approvals)
	if n.AutoMerge {
		s = "no approval (auto-merge)"
	}
	if n.Why != "" {
		s += " (" + n.Why + ")"
	}
	if len(n.Reviewers) > 0 {
		s += "; reviewers " + strings.Join(n.Reviewers, ", ")
	}
	if len(n.Checks) > 0 {
		s += "; checks " + strings.Join(n.Checks, ", ")
	}
	return s
}
