package signing

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"
)

// SignCommit signs a commit as `git commit -S` with gpg.format=ssh does: the signature
// over the commit without its gpgsig header, kept in that header. Sign before storing
// the commit: the signature is part of its hash.
func SignCommit(c *object.Commit, k *Key) error {
	payload, err := commitPayload(c)
	if err != nil {
		return err
	}
	sig, err := k.Sign(payload, NamespaceGit)
	if err != nil {
		return fmt.Errorf("sign commit: %w", err)
	}
	c.PGPSignature = string(sig)
	return nil
}

// ErrUnsigned is a commit that carries no signature.
var ErrUnsigned = errors.New("the commit is not signed")

// VerifyCommit says whether the commit is signed by exactly this key.
func VerifyCommit(c *object.Commit, pub ssh.PublicKey) error {
	if c.PGPSignature == "" {
		return ErrUnsigned
	}
	sig, err := ParseSignature([]byte(c.PGPSignature))
	if err != nil {
		return err
	}
	if !SameKey(sig.PublicKey(), pub) {
		return fmt.Errorf("signed by %s, not by %s", ssh.FingerprintSHA256(sig.PublicKey()), ssh.FingerprintSHA256(pub))
	}
	payload, err := commitPayload(c)
	if err != nil {
		return err
	}
	return sig.VerifyWith(payload, pub, NamespaceGit)
}

func commitPayload(c *object.Commit) ([]byte, error) {
	obj := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(obj); err != nil {
		return nil, fmt.Errorf("encode commit: %w", err)
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
