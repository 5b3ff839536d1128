package lifecycle

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// An operator's revert of a remediation is a rejection (remediator/TRUST.md, "a
// merge is of a tree and an intent"): `git revert` of the merge, pushed on the base,
// or GitHub's revert button (a pull request of one commit saying so, merged). The
// revert's date is a claim, so the remediator seals a rejection record when it sees
// the revert: the runbook's cooldown for the target runs from there.

// sealReverts seals a rejection for each merge of the remediator's, back to the
// verification horizon, that a later commit of the base reverts and that it has not
// sealed one for yet.
func (r *Reconciler) sealReverts(ctx context.Context) error {
	if r.DryRun || r.Infra.Signer == nil {
		return nil
	}
	now := r.Now()
	key := r.Infra.Signer.Public()
	reverts := map[plumbing.Hash]plumbing.Hash{}
	var seen []records.Rejection
	err := records.WalkSince(r.Infra, r.Base, now.Add(-records.VerifyHorizon), key, func(c *object.Commit) error {
		records.RevertedBy(r.Infra, c, reverts)
		by, ok := reverts[c.Hash]
		id := infrarepo.Trailers(c.Message)["Remediation-Id"]
		if !ok || id == "" || artifact.IsRollback(id) || !records.OwnMerge(r.Infra, c, key) {
			return nil
		}
		seen = append(seen, records.Rejection{ID: id, Head: c.ParentHashes[1].String(), At: now,
			Reason: fmt.Sprintf("an operator reverted its merge %s (%s)", c.Hash.String()[:12], by.String()[:12])})
		return nil
	})
	if err != nil {
		return fmt.Errorf("find reverted merges: %w", err)
	}
	for _, j := range seen {
		if err := r.sealRevert(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// sealRevert records the rejection unless the remediator recorded it already.
func (r *Reconciler) sealRevert(ctx context.Context, j records.Rejection) error {
	had, ok, err := records.RejectionOf(r.Infra, j.ID, r.Infra.Signer.Public())
	if err != nil || (ok && had.Head == j.Head) {
		return err
	}
	r.Logger.Info("merge reverted by an operator: a rejection", "remediation_id", j.ID, "head", j.Head, "reason", j.Reason)
	return records.RecordRejection(ctx, r.Infra, j, r.by(j.At))
}
