package github

import (
	"context"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Supersede closes a pull request made under a catalog that changed since, labelled
// superseded (which starts no cooldown) with a comment saying why; the anomaly is
// proposed again on the same branch, in a new pull request.
func (f *Forge) Supersede(ctx context.Context, p forge.Proposal, reason string) error {
	return f.closeLabeled(ctx, p, reason, forge.LabelSuperseded)
}
