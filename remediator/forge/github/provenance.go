package github

import (
	"context"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// ProvenanceContext is the commit status that says whether the remediator made the
// pull request's head: failure on a head a person changed.
const ProvenanceContext = "remediation/provenance"

// ReportChangedByPerson says on the pull request, once per head, that the remediator
// will not merge it: a failed status remediation/provenance on the head and one
// comment (edited, never repeated) naming the reason.
func (f *Forge) ReportChangedByPerson(ctx context.Context, p forge.Proposal, reason string) error {
	if err := f.SetStatus(ctx, p.Head, ProvenanceContext, StatusFailure, "changed by a person: the remediator will not merge it"); err != nil {
		return err
	}
	return f.UpsertComment(ctx, p.Number, forge.ChangedMarker, forge.ChangedByPersonComment("pull request", "reviews", p.Head, reason))
}
