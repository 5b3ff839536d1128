// Package decision turns a routed anomaly into what the remediator will do about it,
// with the reason for every disposition. The proposal id is derived from the runbook and
// the target alone, so the same anomaly always maps to the same branch and proposal.
package decision

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// BranchPrefix is where proposals live in the infrastructure repository.
const BranchPrefix = "remediation/"

// ID names the proposal of a runbook for a target: readable, stable and short
// enough for a branch name. The hash keeps targets with odd characters apart.
func ID(runbook, target string) string {
	sum := sha256.Sum256([]byte(runbook + "\n" + target))
	return runbook + "-" + hex.EncodeToString(sum[:5])
}

// RunbookOf is the runbook an id names (a rollback's too), as ID made it.
func RunbookOf(id string) string {
	id = strings.TrimSuffix(id, "-rollback")
	if i := strings.LastIndexByte(id, '-'); i > 0 && len(id)-i-1 == 10 {
		return id[:i]
	}
	return ""
}

// Branch is the proposal branch of an id.
func Branch(id string) string { return BranchPrefix + id }

// Disposition says what routing does with one runbook for an anomaly: a routing
// word, not how a merged remediation ended (forge.Outcome) nor what became of the
// anomaly (Action).
type Disposition string

// Dispositions of routing, before any Git or forge state is consulted.
const (
	// Propose: the runbook acts; later stages may still suppress it.
	Propose Disposition = "propose"
	// SkipDisabled: the runbook matched but is disabled.
	SkipDisabled Disposition = "skipped-disabled"
	// SkipCondition: the matchers matched but the CEL condition did not hold.
	SkipCondition Disposition = "skipped-condition"
	// Shadowed: a more specific runbook acts for this anomaly.
	Shadowed Disposition = "shadowed"
)

// Item is the decision about one runbook.
type Item struct {
	Runbook string `json:"runbook"`
	// Disposition is written as "outcome", the name `remediator route` and
	// replay have always printed.
	Disposition       Disposition `json:"outcome"`
	Reason            string      `json:"reason"`
	ID                string      `json:"id,omitempty"`
	Branch            string      `json:"branch,omitempty"`
	Target            string      `json:"target,omitempty"`
	Risk              string      `json:"risk,omitempty"`
	RequiredApprovals int         `json:"required_approvals"`
	AutoMerge         bool        `json:"auto_merge"`
	MinVerifiedRuns   int         `json:"min_verified_runs,omitempty"`
}

// Decision is what the remediator will do about one anomaly.
type Decision struct {
	Policy string `json:"policy"`
	// Acting is the runbook that proposes, nil when none does.
	Acting *Item  `json:"acting"`
	Items  []Item `json:"items"`
}

// Decide routes the anomaly and explains each runbook's disposition. Only the most
// specific enabled match acts: one anomaly, one proposal.
func Decide(r *runbooks.Router, a runbooks.Anomaly) Decision {
	d := r.Route(a)
	out := Decision{Policy: d.Policy.Metadata.Name}
	acting := -1
	for _, m := range d.Matches {
		name := m.Runbook.Metadata.Name
		it := Item{
			Runbook: name, Target: m.Target, Risk: string(m.Risk), RequiredApprovals: m.RequiredApprovals,
			AutoMerge: m.AutoMerge, MinVerifiedRuns: m.MinVerifiedRuns,
		}
		switch {
		case !m.Runbook.Spec.Enabled:
			it.Disposition, it.Reason = SkipDisabled, "runbook is disabled"
		case acting >= 0:
			it.Disposition, it.Reason = Shadowed, "the more specific runbook "+out.Items[acting].Runbook+" acts"
		default:
			it.Disposition, it.Reason = Propose, "most specific enabled match"
			it.ID = ID(name, m.Target)
			it.Branch = Branch(it.ID)
		}
		if it.Disposition == Propose {
			acting = len(out.Items)
		}
		out.Items = append(out.Items, it)
	}
	for _, s := range d.Skipped {
		out.Items = append(out.Items, Item{Runbook: s.Runbook.Metadata.Name, Disposition: SkipCondition, Reason: s.Reason})
	}
	if acting >= 0 {
		out.Acting = &out.Items[acting]
	}
	return out
}
