package infrarepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitpush"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// maxSignedFile bounds what a ledger ref's file is read to.
const maxSignedFile = 4 << 20

// SignedFile is the one file of a ledger ref (refs/remediation/...) as last fetched,
// and the commit it was read from (zero: no ref). data is nil when the head is not
// signed by the remediator's key: someone with push access wrote it, and it counts
// for nothing, though the next write still replaces it only by compare-and-swap.
func (r *Repo) SignedFile(ref, file string) (data []byte, head plumbing.Hash, err error) {
	head, ok := r.Tip(ref)
	if !ok {
		return nil, plumbing.ZeroHash, nil
	}
	c, err := r.repo.CommitObject(head)
	if err != nil {
		return nil, head, fmt.Errorf("read %s: %w", ref, err)
	}
	if r.Signer == nil || signing.VerifyCommit(c, r.Signer.Public()) != nil {
		return nil, head, nil
	}
	f, err := c.File(file)
	if errors.Is(err, object.ErrFileNotFound) {
		return nil, head, nil
	}
	if err != nil {
		return nil, head, fmt.Errorf("read %s: %w", ref, err)
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, head, fmt.Errorf("read %s: %w", ref, err)
	}
	defer func() { _ = rd.Close() }()
	data, err = io.ReadAll(io.LimitReader(rd, maxSignedFile))
	if err != nil {
		return nil, head, fmt.Errorf("read %s: %w", ref, err)
	}
	return data, head, nil
}

// UpdateSignedFile rewrites a ledger ref's one file with what update makes of it
// (update gets what SignedFile reads) in a commit signed by the remediator, and
// pushes the ref by compare-and-swap, reading it again and retrying when another
// writer moved it first. Nothing is pushed when update returns its input unchanged.
func (r *Repo) UpdateSignedFile(ctx context.Context, ref, file, message string, by object.Signature,
	update func(old []byte) ([]byte, error)) error {
	for attempt := 0; attempt < 20; attempt++ {
		if attempt > 0 {
			if err := r.Fetch(ctx); err != nil {
				return err
			}
		}
		old, head, err := r.SignedFile(ref, file)
		if err != nil {
			return err
		}
		next, err := update(old)
		if err != nil {
			return err
		}
		if old != nil && bytes.Equal(next, old) {
			return nil
		}
		c, parentTree, err := r.fileCommit(ref, head, file, next, message, by)
		if err != nil {
			return err
		}
		err = r.push(ctx, c, parentTree, plumbing.ReferenceName(ref), head)
		if errors.Is(err, gitpush.ErrStale) {
			continue
		}
		if err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
		return nil
	}
	return fmt.Errorf("push %s: still racing other writers after 20 attempts", ref)
}

// fileCommit writes the commit on head whose tree holds data as file, signed by the
// remediator, and returns it with the tree it replaces.
func (r *Repo) fileCommit(ref string, head plumbing.Hash, file string, data []byte, message string, by object.Signature) (*object.Commit, plumbing.Hash, error) {
	var parentTree plumbing.Hash
	if !head.IsZero() {
		prev, err := r.repo.CommitObject(head)
		if err != nil {
			return nil, plumbing.ZeroHash, fmt.Errorf("read %s: %w", ref, err)
		}
		parentTree = prev.TreeHash
	}
	blob, err := gittree.WriteBlob(r.objects, data)
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("build %s: %w", ref, err)
	}
	tree, err := gittree.Edit(r.objects, parentTree, map[string]*plumbing.Hash{file: &blob})
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("build %s: %w", ref, err)
	}
	nc := &object.Commit{Author: by, Committer: by, Message: message, TreeHash: tree}
	if !head.IsZero() {
		nc.ParentHashes = []plumbing.Hash{head}
	}
	c, err := r.storeCommit(nc)
	return c, parentTree, err
}
