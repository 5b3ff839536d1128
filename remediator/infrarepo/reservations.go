package infrarepo

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitauth"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitpush"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/bounds"
)

// ErrReservationsMoved means another writer pushed a reservation since the ledger
// was read: read it again (Fetch), count again, and try again.
var ErrReservationsMoved = errors.New("the reservations ledger moved")

// Reservations is the bounds ledger as last fetched, and the commit it was read
// from (zero: none yet). A ledger whose head the remediator's own key did not sign
// (someone with push access wrote it) reserves nothing, though the next push still
// replaces it only by compare-and-swap from that head.
func (r *Repo) Reservations() (bounds.Ledger, plumbing.Hash, error) {
	data, head, err := r.SignedFile(bounds.Ref, bounds.File)
	if err != nil || data == nil {
		return nil, head, err
	}
	return bounds.Parse(data), head, nil
}

// Reserve is the ledger's move that goes with a proposal's branch: from the head
// Reservations read (From) to a commit holding Next, signed as By.
type Reserve struct {
	From plumbing.Hash
	Next bounds.Ledger
	By   object.Signature
}

// PushReserving creates the proposal's branch at c (moving it from old, as PushOver
// does) and, in the same atomic push, moves the ledger as res says. Both move or
// neither: ErrBranchExists when the branch was not at old, ErrReservationsMoved when
// only the ledger moved.
func (w *WorkTree) PushReserving(ctx context.Context, c *object.Commit, branch string, old plumbing.Hash, res Reserve) error {
	r := w.r
	ledger, parentTree, err := r.ledgerCommit(res.From, res.Next, res.By)
	if err != nil {
		return err
	}
	ref := plumbing.NewBranchReferenceName(branch)
	err = r.pushAtomic(ctx, branch, []gitpush.RefUpdate{
		{Ref: ref, Old: old, Commit: c, ParentTree: w.baseTree.Hash},
		{Ref: bounds.Ref, Old: res.From, Commit: ledger, ParentTree: parentTree},
	})
	if errors.Is(err, gitpush.ErrStale) {
		// Which one moved decides what the caller does: another writer's proposal
		// of this branch, or only another reservation.
		if ferr := r.Fetch(ctx); ferr != nil {
			return ferr
		}
		if now, _ := r.Branch(branch); now != old {
			return fmt.Errorf("push %s: %w", branch, ErrBranchExists)
		}
		return fmt.Errorf("push %s: %w", branch, ErrReservationsMoved)
	}
	if err != nil {
		return err
	}
	r.pushed(ref, c.Hash)
	r.pushed(bounds.Ref, ledger.Hash)
	return nil
}

// PushReservation moves only the ledger as res says, by compare-and-swap: the
// reservation of a proposal whose branch is already pushed and whose first
// reservation ran out (its replica died before opening it). ErrReservationsMoved
// when the ledger moved since it was read (it is fetched again).
func (r *Repo) PushReservation(ctx context.Context, res Reserve) error {
	ledger, parentTree, err := r.ledgerCommit(res.From, res.Next, res.By)
	if err != nil {
		return err
	}
	err = r.pushAtomic(ctx, bounds.Ref, []gitpush.RefUpdate{{Ref: bounds.Ref, Old: res.From, Commit: ledger, ParentTree: parentTree}})
	if errors.Is(err, gitpush.ErrStale) {
		if ferr := r.Fetch(ctx); ferr != nil {
			return ferr
		}
		return fmt.Errorf("push %s: %w", bounds.Ref, ErrReservationsMoved)
	}
	if err != nil {
		return err
	}
	r.pushed(bounds.Ref, ledger.Hash)
	return nil
}

// pushAtomic applies the updates all or none in one push (what names them in an
// error); gitpush.ErrStale, unwrapped, when a ref was not at its Old.
func (r *Repo) pushAtomic(ctx context.Context, what string, updates []gitpush.RefUpdate) error {
	if err := r.refreshAuth(ctx); err != nil {
		return err
	}
	conn, err := (gitpush.Remote{URL: r.url, Auth: r.auth}).Connect(ctx)
	if err == nil {
		err = conn.UpdateAtomic(ctx, r.repo.Storer, updates)
	}
	if err != nil && !errors.Is(err, gitpush.ErrStale) {
		return fmt.Errorf("push %s to %s: %w", what, gitauth.RedactURL(r.url), err)
	}
	return err
}

// ledgerCommit writes the ledger commit holding next on ledgerHead, signed by the
// remediator, and returns it with the tree it replaces.
func (r *Repo) ledgerCommit(ledgerHead plumbing.Hash, next bounds.Ledger, by object.Signature) (*object.Commit, plumbing.Hash, error) {
	return r.fileCommit(bounds.Ref, ledgerHead, bounds.File, next.Encode(), "reserve\n", by)
}
