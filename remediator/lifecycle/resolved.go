package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Resolver tells whether the anomaly behind a proposal has resolved since, for
// when its resolved notification never arrived (verify.Verifier asks Alertmanager).
type Resolver interface {
	Resolved(ctx context.Context, a *artifact.Artifact, now time.Time) (bool, string, error)
}

// Closer withdraws a proposal, saying why: closed (a withdrawal, which may start a
// cooldown) or superseded (made under a catalog that changed since, which starts
// none: the local forge's sealed record, a label and a comment on a pull request).
type Closer interface {
	Close(ctx context.Context, p forge.Proposal, reason string) error
	Supersede(ctx context.Context, p forge.Proposal, reason string) error
}

// closeIfResolved closes a proposal whose anomaly resolved before the merge, as the
// resolved notification would have; done is true when it did. A rollback is never
// closed this way: the remediation it undoes failed, whatever the alert does now. An
// Alertmanager that cannot answer closes nothing and holds up no merge.
func (r *Reconciler) closeIfResolved(ctx context.Context, art *artifact.Artifact, p forge.Proposal, o Result) (Result, bool, error) {
	res, ok := r.Verifier.(Resolver)
	if !ok || r.Closer == nil || art.RollbackOf != "" {
		return o, false, nil
	}
	resolved, why, err := res.Resolved(ctx, art, r.Now())
	if err != nil {
		r.Logger.Warn("cannot tell whether the anomaly resolved", "remediation_id", art.ID, "err", err)
		return o, false, nil
	}
	if !resolved {
		return o, false, nil
	}
	if r.DryRun {
		o.Action, o.Reason = decision.WouldClose, "the anomaly resolved before the merge ("+why+")"
		return o, true, nil
	}
	reason := fmt.Sprintf("The anomaly resolved before this proposal was merged (%s, %s): closing it. Remediation `%s` was not needed.",
		why, r.Now().UTC().Format(time.RFC3339), art.ID)
	if err := r.Closer.Close(ctx, p, reason); err != nil {
		return o, false, err
	}
	o.Action, o.Reason = decision.Closed, "the anomaly resolved before the merge ("+why+"); the proposal was closed"
	return o, true, nil
}
