package records

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// A record is a note the remediator writes as its own word: an outcome, the progress
// of a verification, the intent to merge a head. Anyone with push access can write a
// note, so a record counts only when it is sealed: its body followed by the
// remediator's SSH signature over the kind, the commit it is about and the body. A
// seal made for one commit or kind is worthless for any other.

// RecordKind is what a record is about; part of what its seal covers.
type RecordKind string

const (
	KindOutcome  RecordKind = "outcome"
	KindProgress RecordKind = "progress"
	KindMerge    RecordKind = "merge"
)

// ErrUnsealed is a note that is not the remediator's record: unsigned, signed by
// another key, or signed for another commit or kind.
var ErrUnsealed = errors.New("not sealed by the remediator")

func sealPayload(kind RecordKind, commit plumbing.Hash, body []byte) []byte {
	p := fmt.Appendf(nil, "remediation record v1\nkind %s\ncommit %s\n", kind, commit)
	return append(p, body...)
}

// Seal signs the record's body with the remediator's key. Without a key (a
// remediator that cannot sign cannot merge either) the body is written as it is and
// will not count.
func Seal(k *signing.Key, kind RecordKind, commit plumbing.Hash, body string) ([]byte, error) {
	b := []byte(body)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	if k == nil {
		return b, nil
	}
	sig, err := k.Sign(sealPayload(kind, commit, b), signing.NamespaceRecord)
	if err != nil {
		return nil, fmt.Errorf("seal %s record: %w", kind, err)
	}
	return append(b, bytes.TrimSpace(sig)...), nil
}

// Unseal returns the body of a record whose seal the remediator's key verifies for
// this kind and commit, or ErrUnsealed (wrapped with why).
func Unseal(note []byte, kind RecordKind, commit plumbing.Hash, remediator ssh.PublicKey) ([]byte, error) {
	i := bytes.Index(note, []byte(sigBegin))
	if i < 0 {
		return nil, fmt.Errorf("%w: unsigned", ErrUnsealed)
	}
	body, armored := note[:i], note[i:]
	if remediator == nil {
		return nil, fmt.Errorf("%w: no remediator key to check it with", ErrUnsealed)
	}
	sig, err := signing.ParseSignature(armored)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsealed, err)
	}
	if err := sig.VerifyWith(sealPayload(kind, commit, body), remediator, signing.NamespaceRecord); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsealed, err)
	}
	return body, nil
}
