package lifecycle

import (
	"context"
	"fmt"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Reproposer proposes a recorded anomaly again under the current catalog and says
// what became of it (the proposer's action, branch and reason).
type Reproposer interface {
	Repropose(ctx context.Context, art *artifact.Artifact) (string, error)
}

// supersede closes a proposal whose runbook or policy changed since it was made, and
// proposes its anomaly again under the current catalog, unless it is known to have
// resolved. "A changed runbook proposes again, under its new version"
// (remediator/TRUST.md): waiting would strand it, since the catalog no longer holds
// what it was made under. Without a forge that can close it, it waits and says why.
func (r *Reconciler) supersede(ctx context.Context, art *artifact.Artifact, p forge.Proposal, o Result, why string) (Result, error) {
	s := r.Closer
	if s == nil {
		o.Reason = why
		return o, nil
	}
	if r.DryRun {
		o.Action, o.Reason = decision.WouldClose, "superseded: "+why+"; the pass closes it and proposes the anomaly again under the current catalog"
		return o, nil
	}
	comment := fmt.Sprintf("Superseded: %s.\n\nClosing remediation `%s`: the catalog it was made under has changed. If the anomaly still fires, it is proposed again under the current catalog.", why, art.ID)
	if err := s.Supersede(ctx, p, comment); err != nil {
		return o, err
	}
	o.Action, o.Reason = decision.Closed, "superseded: "+why
	if res, ok := r.Verifier.(Resolver); ok {
		resolved, how, err := res.Resolved(ctx, art, r.Now())
		if err == nil && resolved {
			o.Reason += "; the anomaly has resolved (" + how + "): not proposed again"
			return o, nil
		}
	}
	if r.Reproposer == nil {
		o.Reason += "; proposed again on the anomaly's next alert"
		return o, nil
	}
	again, err := r.Reproposer.Repropose(ctx, art)
	if err != nil {
		return o, fmt.Errorf("propose %s again under the current catalog: %w", art.ID, err)
	}
	o.Reason += "; proposed again: " + again
	return o, nil
}
