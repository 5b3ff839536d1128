package records

import (
	"context"
	"crypto/sha1" //nolint:gosec // names a notes entry as Git names objects; not a security boundary (the seal is)
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

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
