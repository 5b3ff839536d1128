package lifecycle

import (
	"context"
	"crypto/sha1" //nolint:gosec // names a notes entry as Git names objects; not a security boundary (the seal is)
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// RejectionsRef holds the remediator's sealed records of rejected proposals: a
// proposal withdrawn by anyone but the remediator (on the local forge, its branch
// deleted) is a reviewer's "no". The record is kept per remediation id, not on a
// branch anyone can re-push, so a re-pushed branch at the same head never merges, and
// the rejection starts the runbook's cooldown for the target.
const RejectionsRef = "refs/notes/remediation-rejections"

// KindRejection is a sealed rejection record.
const KindRejection RecordKind = "rejection"

// Rejection is what a rejection record says.
type Rejection struct {
	ID   string
	Head string
	// At is when the remediator saw it, by its own clock.
	At     time.Time
	Reason string
}

// rejectionKey is the object a rejection record of id annotates: one per id, found
// without a walk.
func rejectionKey(id string) plumbing.Hash {
	return plumbing.Hash(sha1.Sum([]byte("remediation rejection " + id))) //nolint:gosec // see the import
}

func (j Rejection) body() string {
	return fmt.Sprintf("rejected %s\nhead %s\nat %s\nreason %s\n", j.ID, j.Head, j.At.UTC().Format(time.RFC3339), strings.ReplaceAll(j.Reason, "\n", " "))
}

func parseRejection(body []byte) (Rejection, bool) {
	var j Rejection
	for _, line := range strings.Split(string(body), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "rejected":
			j.ID = v
		case "head":
			j.Head = v
		case "at":
			j.At, _ = time.Parse(time.RFC3339, v)
		case "reason":
			j.Reason = v
		}
	}
	return j, j.ID != "" && !j.At.IsZero()
}

// RecordRejection seals and pushes the rejection of a proposal.
func RecordRejection(ctx context.Context, infra *infrarepo.Repo, j Rejection, by object.Signature) error {
	key := rejectionKey(j.ID)
	note, err := Seal(infra.Signer, KindRejection, key, j.body())
	if err != nil {
		return err
	}
	_, err = infra.UpdateNote(ctx, RejectionsRef, key, "rejected "+j.ID, by, func([]byte) ([]byte, error) { return note, nil })
	if err != nil {
		return fmt.Errorf("record rejection of %s: %w", j.ID, err)
	}
	return nil
}

// RejectionOf reads the sealed rejection of a remediation id, if any: a note that is
// not the remediator's is none.
func RejectionOf(infra *infrarepo.Repo, id string, remediator ssh.PublicKey) (Rejection, bool, error) {
	key := rejectionKey(id)
	note, found, err := infra.Note(RejectionsRef, key)
	if err != nil || !found {
		return Rejection{}, false, err
	}
	body, err := Unseal(note, KindRejection, key, remediator)
	if err != nil {
		return Rejection{}, false, nil //nolint:nilerr // a record not sealed by the remediator is no record
	}
	j, ok := parseRejection(body)
	return j, ok && j.ID == id, nil
}

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
	if err != nil || Provenance(c, id, r.Infra.Signer.Public()) != "" {
		return nil //nolint:nilerr // not a proposal of the remediator's: nothing of ours was rejected
	}
	j := Rejection{ID: id, Head: head.String(), At: r.Now(), Reason: "the proposal branch was deleted by someone other than the remediator"}
	r.Logger.Info("proposal rejected", "remediation_id", id, "head", head.String(), "reason", j.Reason)
	if r.DryRun {
		return nil
	}
	if err := RecordRejection(ctx, r.Infra, j, r.by(j.At)); err != nil {
		return err
	}
	return r.Infra.ForgetSeen(branch)
}

// rejected says why a proposal head may not merge because it was rejected, or "".
func (r *Reconciler) rejected(id string, head plumbing.Hash) (string, error) {
	j, ok, err := RejectionOf(r.Infra, id, r.Infra.Signer.Public())
	if err != nil || !ok || j.Head != head.String() {
		return "", err
	}
	return fmt.Sprintf("rejected: %s (seen at %s); a rejected proposal never merges, whoever re-pushes it", j.Reason, j.At.UTC().Format(time.RFC3339)), nil
}
