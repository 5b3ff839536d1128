package github

import (
	"context"
	"fmt"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// ProvenanceContext is the commit status that says whether the remediator made the
// pull request's head: failure on a head a person changed.
const ProvenanceContext = "remediation/provenance"

// changedMarker finds the one comment that says a person changed the proposal.
const changedMarker = "<!-- remediation:changed-by-person -->"

// ReportChangedByPerson says on the pull request, once per head, that the remediator
// will not merge it: a failed status remediation/provenance on the head and one
// comment (edited, never repeated) naming the reason.
func (f *Forge) ReportChangedByPerson(ctx context.Context, p forge.Proposal, reason string) error {
	if err := f.SetStatus(ctx, p.Head, ProvenanceContext, StatusFailure, "changed by a person: the remediator will not merge it"); err != nil {
		return err
	}
	body := fmt.Sprintf("**Changed by a person.** The head `%s` of this pull request is not the remediator's own commit, so the "+
		"remediator will not merge it, whatever its reviews say.\n\n%s\n\nIf you want this change, merge it through your "+
		"team's own process; if not, close this pull request and the remediator proposes again when the anomaly recurs.",
		p.Head, reason)
	return f.UpsertComment(ctx, p.Number, changedMarker, body)
}
