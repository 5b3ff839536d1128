package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// vanished records as rejected each proposal branch the last pass saw (the mirror
// remembers it) that is gone now, unmerged: the remediator forgets its own branches
// as it deletes them, so a branch that vanished was deleted by someone else. It then
// remembers the branches of this pass.
func (r *Reconciler) vanished(ctx context.Context, branches []string) error {
	seen, err := r.Infra.Seen()
	if err != nil {
		return fmt.Errorf("read the proposals seen: %w", err)
	}
	now := map[string]bool{}
	for _, b := range branches {
		now[b] = true
	}
	for branch, head := range seen {
		if now[branch] {
			continue
		}
		if err := r.rejectVanished(ctx, branch, head); err != nil {
			return err
		}
	}
	if r.DryRun {
		return nil
	}
	for _, b := range branches {
		head, _ := r.Infra.Branch(b)
		if err := r.Infra.MarkSeen(b, head); err != nil {
			return fmt.Errorf("remember %s: %w", b, err)
		}
	}
	return nil
}

// rejectVanished records the rejection of a proposal whose branch vanished unmerged.
func (r *Reconciler) rejectVanished(ctx context.Context, branch string, head plumbing.Hash) error {
	if merged, err := r.Infra.IsMerged(head, r.Base); err != nil || merged {
		if merged && !r.DryRun {
			return r.Infra.ForgetSeen(branch)
		}
		return nil //nolint:nilerr // a head the mirror lost is nothing to record
	}
	id := strings.TrimPrefix(branch, decision.BranchPrefix)
	c, err := r.Infra.Commit(head)
	if err != nil || records.Provenance(c, id, r.Infra.Signer.Public()) != "" {
		return nil //nolint:nilerr // not a proposal of the remediator's: nothing of ours was rejected
	}
	j := records.Rejection{ID: id, Head: head.String(), At: r.Now(), Reason: "the proposal branch was deleted by someone other than the remediator"}
	r.Logger.Info("proposal rejected", "remediation_id", id, "head", head.String(), "reason", j.Reason)
	if r.DryRun {
		return nil
	}
	if err := records.RecordRejection(ctx, r.Infra, j, r.by(j.At)); err != nil {
		return err
	}
	return r.Infra.ForgetSeen(branch)
}

// rejected says why a proposal head may not merge because it was rejected, or "".
func (r *Reconciler) rejected(id string, head plumbing.Hash) (string, error) {
	j, ok, err := records.RejectionOf(r.Infra, id, r.Infra.Signer.Public())
	if err != nil || !ok || j.Head != head.String() {
		return "", err
	}
	return fmt.Sprintf("rejected: %s (seen at %s); a rejected proposal never merges, whoever re-pushes it", j.Reason, j.At.UTC().Format(time.RFC3339)), nil
}
