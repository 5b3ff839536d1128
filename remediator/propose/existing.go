package propose

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// ownBranch says whether the branch head is the remediator's own proposal commit of
// this id (signed with its key): a branch someone else pushed under the name is
// never opened as a proposal.
func (p *Proposer) ownBranch(head plumbing.Hash, id string) (bool, error) {
	c, err := p.Infra.Commit(head)
	if err != nil {
		return false, err
	}
	return records.Provenance(c, id, p.Infra.Signer.Public()) == "", nil
}

// branchRequest rebuilds the forge request from what the proposal branch records:
// its artifact and its change, so a refreshed description equals the first one.
func (pr *proposal) branchRequest(head plumbing.Hash) (forge.Request, error) {
	p := pr.p
	data, err := p.Infra.ReadFile(head, artifact.Path(pr.res.ID))
	if err != nil {
		return forge.Request{}, err
	}
	art, err := artifact.Decode(data)
	if err != nil {
		return forge.Request{}, err
	}
	stat, err := p.Infra.Stat(head)
	if err != nil {
		return forge.Request{}, err
	}
	req := p.request(art, pr.res.Branch, head.String(), pr.pol, pr.a)
	req.DiffStat = diffStat(stat)
	return req, nil
}

// recur handles a repeat of an anomaly whose proposal is open.
func (pr *proposal) recur(ctx context.Context, prop forge.Proposal, head plumbing.Hash) (Result, error) {
	res := pr.res
	res.Action, res.URL = decision.Updated, prop.URL
	if pr.dryRun {
		res.Reason = "dry run: the open proposal would count this recurrence"
		return res, nil
	}
	req, err := pr.branchRequest(head)
	if err != nil {
		return res, err
	}
	n, err := pr.p.Forge.Recur(ctx, prop, req)
	if err != nil {
		return res, err
	}
	res.Recurrences = n
	res.Reason = fmt.Sprintf("the proposal is already open; recurrence %d counted", n)
	pr.log.Info("proposal exists", "action", res.Action, "branch", res.Branch, "recurrences", n, "url", prop.URL)
	return res, nil
}

// reopen opens the proposal of a branch that was pushed without one, if the branch
// is the remediator's own proposal of this remediation; a branch someone else
// pushed under the name is never overwritten nor opened.
func (pr *proposal) reopen(ctx context.Context, head plumbing.Hash) (Result, error) {
	res := pr.res
	ours, err := pr.p.ownBranch(head, res.ID)
	if err != nil {
		return res, err
	}
	if !ours {
		res.Action = decision.Suppressed
		res.Reason = fmt.Sprintf("branch %s exists but is not a proposal of %s; it is never overwritten", res.Branch, res.ID)
		pr.log.Warn("suppressed", "action", res.Action, "reason", res.Reason)
		return res, nil
	}
	if done, err := pr.admitLate(ctx); done || err != nil {
		return pr.res, err
	}
	res.Action, res.Commit = decision.Opened, head.String()
	if pr.dryRun {
		res.Reason = "dry run: the pushed branch's proposal would be opened"
		return res, nil
	}
	req, err := pr.branchRequest(head)
	if err != nil {
		return res, err
	}
	prop, err := pr.p.Forge.Open(ctx, req)
	if err != nil {
		return res, fmt.Errorf("open proposal for %s: %w", res.Branch, err)
	}
	res.URL, res.Reason = prop.URL, "the branch was pushed earlier without its proposal; opened it now"
	pr.log.Info("proposal opened from an existing branch", "action", res.Action, "branch", res.Branch, "url", prop.URL)
	return res, nil
}

// admitLate counts a branch pushed earlier whose proposal never opened. While the
// lease of its reservation runs, the slot is its own: opening it takes nothing more.
// After the lease (the replica that pushed it died, and the slot may have gone to
// another proposal since), or with no reservation of the remediator's at all, it is
// a new proposal to the breaker, the cooldown and the limits, and it reserves a
// slot again before it opens, by compare-and-swap of the ledger as a push with a
// branch does. Else a dead replica's branch, opened by the anomaly's next
// occurrence, would exceed the bound it was counted against only for the lease.
// done when held back (pr.res says why).
func (pr *proposal) admitLate(ctx context.Context) (bool, error) {
	p := pr.p
	for attempt := 0; ; attempt++ {
		ledger, _, err := p.Infra.Reservations()
		if err != nil {
			return true, err
		}
		if ledger.Holds(pr.res.ID, p.Now(), p.lease()) {
			return false, nil
		}
		if done, err := pr.admit(ctx); done || err != nil {
			return true, err
		}
		if !pr.reserve.counted || pr.dryRun {
			return false, nil
		}
		move, err := pr.reservation()
		if err != nil {
			return true, err
		}
		err = p.Infra.PushReservation(ctx, move)
		switch {
		case !errors.Is(err, infrarepo.ErrReservationsMoved):
			return err != nil, err
		case attempt == maxReserveAttempts:
			return true, fmt.Errorf("reserve %s: still racing other replicas after %d attempts: %w", pr.res.Branch, attempt+1, err)
		}
		pr.log.Debug("reservation raced; counting again", "attempt", attempt+1)
	}
}
