package github

import (
	"context"
	"fmt"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// OutcomeContext is the commit status that carries a remediation's outcome.
const OutcomeContext = "remediation/outcome"

// ReportOutcome shows a merged remediation's outcome on GitHub: a commit status on
// the merge commit, one comment on the pull request (found by its marker, so a
// second report edits it) and a label. Each step is idempotent: a pass that fails
// half-way reports again.
func (f *Forge) ReportOutcome(ctx context.Context, branch, mergeSHA string, outcome forge.Outcome, detail string) error {
	state, label := StatusSuccess, forge.LabelVerified
	switch outcome {
	case forge.OutcomeFailed:
		state, label = StatusFailure, forge.LabelVerificationFailed
	case forge.OutcomeNotApplied:
		state, label = StatusError, forge.LabelNotApplied
	}
	if err := f.SetStatus(ctx, mergeSHA, OutcomeContext, state, detail); err != nil {
		return err
	}
	p, found, err := f.Lookup(ctx, branch)
	if err != nil || !found {
		return err
	}
	if err := f.UpsertComment(ctx, p.Number, forge.OutcomeMarker, forge.OutcomeComment(outcome, detail, mergeSHA)); err != nil {
		return err
	}
	if _, _, err := f.client.Issues.AddLabelsToIssue(ctx, f.owner, f.repo, p.Number, []string{label}); err != nil {
		return fmt.Errorf("github: label #%d %s: %w", p.Number, label, err)
	}
	return nil
}
