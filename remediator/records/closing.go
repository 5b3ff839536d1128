package records

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// ClosedRef holds the record of each proposal closed without merge on the local
// forge, where closing deletes the branch and nothing else would remember it: the
// cooldown a rejection starts, and that a re-pushed closed head never merges.
const ClosedRef = "refs/notes/remediation-closed"

// KindClosed is the seal kind of the remediator's own closing records.
const KindClosed RecordKind = "closed"

// Why a proposal was closed without merge.
const (
	// ClosedRejected: a reviewer rejected it (signed with their key); it starts the
	// runbook's cooldown for the target.
	ClosedRejected = "rejected"
	// ClosedByOperator: an operator closed it (`remediator close`); like a pull
	// request closed by hand, it starts the cooldown.
	ClosedByOperator = "closed"
	// ClosedResolved: its anomaly resolved before the merge; no cooldown.
	ClosedResolved = "resolved"
	// ClosedSuperseded: the catalog it was made under changed; it is proposed again
	// under the current one, with no cooldown.
	ClosedSuperseded = "superseded"
)

// ClosedKey is the object the closing record of remediation id is a note on: one
// name per id, so the record is found after the branch is gone, and a re-pushed
// branch finds it too. It names no object of the repository (`git notes prune`
// would drop it: do not prune this ref).
func ClosedKey(id string) plumbing.Hash {
	return plumbing.ComputeHash(plumbing.BlobObject, []byte(decision.Branch(id)+"\n"))
}

// Closing is the record of one proposal closed without merge.
type Closing struct {
	ID   string
	Head string
	// How: one of ClosedRejected, ClosedByOperator, ClosedResolved, ClosedSuperseded.
	How string
	// By is the reviewer's principal for a rejection, else "remediator".
	By     string
	At     time.Time
	Reason string
}

// Body is the record's text, what its signature covers.
func (c Closing) Body() string {
	return fmt.Sprintf("closed: %s\nhead: %s\nhow: %s\nby: %s\nat: %s\nreason: %s\n",
		c.ID, c.Head, c.How, c.By, c.At.UTC().Format(time.RFC3339), artifact.OneLine(c.Reason))
}

// rejectionPayload is what a reviewer's rejection signs: distinct from an approval's
// payload (remediation approval v1), so neither can pass for the other.
func rejectionPayload(body []byte) []byte {
	return append([]byte("remediation rejection v1\n"), body...)
}

// SealClosing is the remediator's own closing record, sealed with its key.
func SealClosing(k *signing.Key, c Closing) ([]byte, error) {
	c.By = "remediator"
	return Seal(k, KindClosed, ClosedKey(c.ID), c.Body())
}

// SignRejection is a reviewer's rejection, signed with their key in the approvals'
// namespace (the allowed-signers file lists reviewers for it).
func SignRejection(k *signing.Key, c Closing) ([]byte, error) {
	c.How = ClosedRejected
	body := []byte(c.Body())
	sig, err := k.Sign(rejectionPayload(body), signing.NamespaceApproval)
	if err != nil {
		return nil, fmt.Errorf("sign rejection: %w", err)
	}
	return append(body, bytes.TrimSpace(sig)...), nil
}

// ReadClosing reads the closing record of remediation id. It counts only when the
// remediator sealed it, or, for a rejection, when a key the allowed-signers file
// lists for the principal it names signed it: a note anyone can write must not
// suppress remediations. ok is false without a record that counts; why says what
// was wrong with one that does not.
func ReadClosing(note []byte, id string, remediator ssh.PublicKey, reviewers *signing.AllowedSigners, now time.Time) (c Closing, ok bool, why string) {
	if len(note) == 0 {
		return Closing{}, false, ""
	}
	i := bytes.Index(note, []byte(sigBegin))
	if i < 0 {
		return Closing{}, false, "unsigned closing record"
	}
	body, sig := note[:i], note[i:]
	c, err := parseClosing(body)
	if err != nil || c.ID != id {
		return Closing{}, false, fmt.Sprintf("unreadable closing record: %v", err)
	}
	if c.How == ClosedRejected {
		if reviewers == nil {
			return Closing{}, false, "a rejection, but no allowed-signers file to check it with"
		}
		if err := reviewers.Verify(rejectionPayload(body), sig, c.By, signing.NamespaceApproval, now); err != nil {
			return Closing{}, false, "rejection signature not accepted: " + err.Error()
		}
		return c, true, ""
	}
	if _, err := Unseal(note, KindClosed, ClosedKey(id), remediator); err != nil || c.By != "remediator" {
		return Closing{}, false, fmt.Sprintf("closing record not the remediator's: %v", err)
	}
	return c, true, ""
}

func parseClosing(body []byte) (Closing, error) {
	var c Closing
	for _, line := range strings.Split(string(body), "\n") {
		key, val, found := strings.Cut(line, ": ")
		if !found {
			continue
		}
		switch key {
		case "closed":
			c.ID = val
		case "head":
			c.Head = val
		case "how":
			c.How = val
		case "by":
			c.By = val
		case "at":
			t, err := time.Parse(time.RFC3339, val)
			if err != nil {
				return c, fmt.Errorf("at: %w", err)
			}
			c.At = t
		case "reason":
			c.Reason = val
		}
	}
	switch {
	case c.ID == "" || c.Head == "" || c.By == "" || c.At.IsZero():
		return c, errors.New("closed, head, by and at are required")
	case c.How != ClosedRejected && c.How != ClosedByOperator && c.How != ClosedResolved && c.How != ClosedSuperseded:
		return c, fmt.Errorf("how: unknown %q", c.How)
	}
	return c, nil
}
