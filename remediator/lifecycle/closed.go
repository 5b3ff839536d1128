package lifecycle

import (
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// closedHead says why a head its proposal's closing record names never merges (the
// branch of a rejected or closed proposal pushed again), or "".
func (r *Reconciler) closedHead(id string, head plumbing.Hash) (string, error) {
	note, found, err := r.Infra.Note(records.ClosedRef, records.ClosedKey(id))
	if err != nil || !found {
		return "", err
	}
	var remediator ssh.PublicKey
	if r.Infra.Signer != nil {
		remediator = r.Infra.Signer.Public()
	}
	c, ok, _ := records.ReadClosing(note, id, remediator, r.Reviewers, r.Now())
	if !ok || c.Head != head.String() {
		return "", nil
	}
	return fmt.Sprintf("this head was closed (%s by %s at %s: %s): a closed proposal pushed again never merges",
		c.How, c.By, c.At.UTC().Format(time.RFC3339), c.Reason), nil
}
