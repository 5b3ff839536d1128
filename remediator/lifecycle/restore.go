package lifecycle

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// kindOf is the kind of the sealed records each records ref holds.
var kindOf = map[string]records.RecordKind{records.OutcomeRef: records.KindOutcome, records.ProgressRef: records.KindProgress, records.RejectionsRef: records.KindRejection, records.EvidenceRef: records.KindEvidence}

// restoreDeleted puts back each sealed record the remediator had (the tips it
// remembered at its last pass) that the fetch found gone: the newest records no signed merge
// has committed to yet can be deleted by a force push, and the remediator is the one
// who saw them. Only records its own key sealed are put back, so nothing anyone
// else wrote comes back with them.
func (r *Reconciler) restoreDeleted(ctx context.Context) error {
	if r.DryRun || r.Infra.Signer == nil {
		return nil
	}
	before := records.RecordTips{}
	for ref := range kindOf {
		if h, ok := r.Infra.RememberedTip(ref); ok {
			before[ref] = h
		}
	}
	after := records.CurrentTips(r.Infra)
	s := r.Infra.Storer()
	for ref, old := range before {
		if after[ref] == old {
			continue
		}
		then, err := records.NotedIn(s, old)
		if err != nil {
			return nil //nolint:nilerr // the mirror lost it: nothing to put back
		}
		now, err := records.NotedIn(s, after[ref])
		if err != nil {
			now = map[plumbing.Hash]bool{}
		}
		for obj := range then {
			if now[obj] {
				continue
			}
			if err := r.restoreOne(ctx, ref, old, obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// restoreOne puts back the record on obj that notesHead holds, when it is sealed.
func (r *Reconciler) restoreOne(ctx context.Context, ref string, notesHead, obj plumbing.Hash) error {
	note, found, err := infrarepo.NoteIn(r.Infra.Storer(), notesHead, obj)
	if err != nil || !found {
		return err
	}
	if _, err := records.Unseal(note, kindOf[ref], obj, r.Infra.Signer.Public()); err != nil {
		return nil //nolint:nilerr // not the remediator's record: not put back
	}
	r.Logger.Warn("a sealed record was deleted from the repository; putting it back", "ref", ref, "object", obj.String())
	_, err = r.Infra.UpdateNote(ctx, ref, obj, "restore a deleted record", r.by(r.Now()),
		func(old []byte) ([]byte, error) {
			if old != nil {
				return old, nil // there is one again: the checks of the pass judge it
			}
			return note, nil
		})
	if err != nil {
		return fmt.Errorf("restore the deleted record on %s in %s: %w", obj, ref, err)
	}
	return nil
}

// rememberTips remembers where the records refs stand at the end of a pass, for the
// next pass's restoreDeleted.
func (r *Reconciler) rememberTips() error {
	if r.DryRun {
		return nil
	}
	for ref, tip := range records.CurrentTips(r.Infra) {
		if err := r.Infra.RememberTip(ref, tip); err != nil {
			return fmt.Errorf("remember the tip of %s: %w", ref, err)
		}
	}
	return nil
}
