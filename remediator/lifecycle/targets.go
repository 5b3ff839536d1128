package lifecycle

import (
	"context"
	"slices"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Targets narrow a pass to what webhook deliveries named: pull requests by number,
// commits by sha (a status or check run reports on a head). A pass with targets
// looks at no other proposal; the verification of merged remediations runs as in
// every pass (a check on a merge commit is what it may wait for). The deliveries
// are only hints of where to look: everything decided is read from the forge.
type Targets struct {
	PullRequests []int
	Commits      []string
}

// wants says whether the pass looks at the proposal: always without targets.
func (t *Targets) wants(p forge.Proposal) bool {
	if t == nil {
		return true
	}
	return slices.Contains(t.PullRequests, p.Number) ||
		slices.ContainsFunc(t.Commits, func(sha string) bool { return sha != "" && strings.EqualFold(sha, p.Head) })
}

// openProposals lists what the pass works on: the open proposals, and only those, so
// the forge skips reading closed ones.
func openProposals(ctx context.Context, prs forge.PullRequests) ([]forge.Proposal, error) {
	return prs.OpenProposals(ctx)
}
