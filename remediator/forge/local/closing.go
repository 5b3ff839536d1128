package local

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// A proposal closed without merge leaves a record under records.ClosedRef (the
// branch itself is deleted with compare-and-swap): sealed by the remediator when it
// closes one (resolved, superseded, an operator's close), signed by the reviewer for
// a rejection. The record is what Lookup finds after the branch is gone (the
// cooldown a rejection starts), and it names the closed head, so the same head
// pushed again is still closed.

// Close withdraws a proposal whose anomaly resolved before the merge.
func (f *Forge) Close(ctx context.Context, p forge.Proposal, reason string) error {
	return f.CloseAs(ctx, p, records.ClosedResolved, reason)
}

// Supersede closes a proposal made under a catalog that changed since; it starts
// no cooldown.
func (f *Forge) Supersede(ctx context.Context, p forge.Proposal, reason string) error {
	return f.CloseAs(ctx, p, records.ClosedSuperseded, reason)
}

// CloseAs records why the remediator closes the proposal, sealed, then deletes its
// branch if it is still at the head the proposal was read at.
func (f *Forge) CloseAs(ctx context.Context, p forge.Proposal, how, reason string) error {
	note, err := records.SealClosing(f.Infra.Signer, records.Closing{ID: p.ID, Head: p.Head, How: how, At: f.now(), Reason: reason})
	if err != nil {
		return fmt.Errorf("local forge: close %s: %w", p.ID, err)
	}
	return f.closeWith(ctx, p, note, "remediator "+how+" "+p.ID)
}

// Reject records a reviewer's signed rejection (records.SignRejection), then
// deletes the branch with compare-and-swap.
func (f *Forge) Reject(ctx context.Context, p forge.Proposal, signed []byte) error {
	return f.closeWith(ctx, p, signed, "reject "+p.ID)
}

// closeWith writes the record first: a branch deleted without its record would be
// a rejection forgotten (no cooldown); a record whose head then moved names a head
// that no longer is the proposal's, and closes nothing.
func (f *Forge) closeWith(ctx context.Context, p forge.Proposal, note []byte, msg string) error {
	if _, err := f.Infra.UpdateNote(ctx, records.ClosedRef, records.ClosedKey(p.ID), msg, object.Signature{Name: f.AuthorName, Email: f.AuthorEmail, When: f.now()},
		func([]byte) ([]byte, error) { return note, nil }); err != nil {
		return fmt.Errorf("local forge: record the closing of %s: %w", p.ID, err)
	}
	if err := f.Infra.DeleteBranch(ctx, p.Branch, plumbing.NewHash(p.Head)); err != nil {
		return fmt.Errorf("local forge: close %s: %w", p.ID, err)
	}
	return nil
}

// Closing is the record of remediation id's closing that counts, if any.
func (f *Forge) Closing(id string) (records.Closing, bool, error) {
	note, _, err := f.Infra.Note(records.ClosedRef, records.ClosedKey(id))
	if err != nil {
		return records.Closing{}, false, fmt.Errorf("local forge: read the closing of %s: %w", id, err)
	}
	var remediator ssh.PublicKey
	if f.Infra.Signer != nil {
		remediator = f.Infra.Signer.Public()
	}
	c, ok, _ := records.ReadClosing(note, id, remediator, f.Reviewers, f.now())
	return c, ok, nil
}

// closed is the proposal of a branch that is gone, as its closing record tells it.
func (f *Forge) closed(branch string) (forge.Proposal, bool, error) {
	id := strings.TrimPrefix(branch, decision.BranchPrefix)
	c, ok, err := f.Closing(id)
	if err != nil || !ok {
		return forge.Proposal{}, false, err
	}
	return asClosed(forge.Proposal{ID: id, Branch: branch, URL: branch, Head: c.Head}, c), true, nil
}

// asClosed marks a proposal closed as the record says: resolved and superseded
// closings carry their label, which starts no cooldown.
func asClosed(p forge.Proposal, c records.Closing) forge.Proposal {
	p.State, p.Closed = forge.Closed, c.At
	switch c.How {
	case records.ClosedResolved:
		p.Labels = append(p.Labels, forge.LabelResolved)
	case records.ClosedSuperseded:
		p.Labels = append(p.Labels, forge.LabelSuperseded)
	}
	return p
}

func (f *Forge) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}
