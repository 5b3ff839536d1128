package lifecycle

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// A merge is of a tree and an intent (remediator/TRUST.md): what the base's
// first-parent line says of a remediation id, read at merge time whatever hash the
// proposal's head has now.

// pastMerges is what the base says of one remediation id.
type pastMerges struct {
	// newest is the newest merge of the id the remediator signed (nil: none).
	newest *object.Commit
	// sameTree is a merge of the id whose merged head had the proposal's tree.
	sameTree *object.Commit
	// reverted is a merge of the id a later commit of the base reverts.
	reverted *object.Commit
}

// mergesOf walks the base's first-parent line, newest first, for the remediator's
// merges of id: by graph order, never by the dates commits claim. A merge is the
// remediator's when its key signed it (local forge) or its sealed records bind it
// (GitHub, whose merge commit is its own).
func mergesOf(infra *infrarepo.Repo, base, id string, tree plumbing.Hash) (pastMerges, error) {
	var p pastMerges
	reverts := map[plumbing.Hash]plumbing.Hash{}
	key := infra.Signer.Public()
	err := infra.WalkFirstParent(base, func(c *object.Commit) error {
		records.RevertedBy(infra, c, reverts)
		if c.NumParents() < 2 || infrarepo.Trailers(c.Message)["Remediation-Id"] != id {
			return nil
		}
		if !records.OwnMerge(infra, c, key) {
			return nil // a merge by hand: audit verify's to report, not ours to count
		}
		if p.newest == nil {
			p.newest = c
		}
		if _, ok := reverts[c.Hash]; ok && p.reverted == nil {
			p.reverted = c
		}
		if head, err := infra.Commit(c.ParentHashes[1]); err == nil && head.TreeHash == tree && p.sameTree == nil {
			p.sameTree = c
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return p, fmt.Errorf("merges of %s: %w", id, err)
	}
	return p, nil
}

// mergedBefore says why a proposal of id at head may not merge now for what the base
// already holds of id, or "": its tree merged once already; an operator reverted a
// merge of it (a rejection: never again without a person's approval); or its
// runbook's cooldown since the last merge of it has not passed.
func (r *Reconciler) mergedBefore(in gateInput, id string, cooldown time.Duration) (string, error) {
	c, err := r.Infra.Commit(in.head)
	if err != nil {
		return "", err
	}
	p, err := mergesOf(r.Infra, r.Base, id, c.TreeHash)
	if err != nil {
		return "", err
	}
	switch {
	case p.sameTree != nil:
		return fmt.Sprintf("already merged as %s with the same tree; a remediation merges once, whatever hash its head has now", p.sameTree.Hash.String()[:12]), nil
	case p.reverted != nil && len(in.counted) == 0:
		return fmt.Sprintf("an operator reverted its merge %s: a rejection; it never merges again without an approval", p.reverted.Hash.String()[:12]), nil
	case p.newest != nil && cooldown > 0 && r.Now().Before(p.newest.Committer.When.Add(cooldown)):
		// The merge's date is the remediator's own: its key signed the merge (or, on
		// GitHub, its sealed record of the merge commit binds it).
		return fmt.Sprintf("runbook cooldown: merged last as %s at %s; not again before %s", p.newest.Hash.String()[:12],
			stamp(p.newest.Committer.When), stamp(p.newest.Committer.When.Add(cooldown))), nil
	}
	return r.rejectedWithin(id, cooldown)
}

// rejectedWithin says why id may not merge while the cooldown since its last
// rejection (a deleted or closed proposal, a reverted merge), sealed when the
// remediator saw it, runs, or "".
func (r *Reconciler) rejectedWithin(id string, cooldown time.Duration) (string, error) {
	j, ok, err := records.RejectionOf(r.Infra, id, r.Infra.Signer.Public())
	if err != nil || !ok || cooldown <= 0 || !r.Now().Before(j.At.Add(cooldown)) {
		return "", err
	}
	return fmt.Sprintf("runbook cooldown: rejected at %s (%s); not again before %s", stamp(j.At), j.Reason, stamp(j.At.Add(cooldown))), nil
}
