package infrarepo

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitpush"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
)

// ErrBaseMoved means the base branch moved while the merge was built: nothing was
// merged, and the next pass tries again on the new base.
var ErrBaseMoved = errors.New("the base branch moved")

// ErrMergeConflict means the base changed a file the proposal changes since the
// proposal was made: it must be proposed again, not merged blindly.
var ErrMergeConflict = errors.New("the base changed the same file")

// Merge merges the proposal head (exactly that commit: the one reviewed) into the base
// branch with a merge commit carrying message, and pushes the base with
// compare-and-swap from the head it was built on.
func (r *Repo) Merge(ctx context.Context, base string, head plumbing.Hash, message string, by object.Signature) (*object.Commit, error) {
	// The change is everything on the branch since it forked from the base: the
	// proposal commit and anything pushed on top of it (which was reviewed with it).
	f, err := r.forkOf(base, head)
	if err != nil {
		return nil, err
	}
	tree, err := r.mergeTree(f.base, f.from, f.head)
	if err != nil {
		return nil, err
	}
	baseHead := f.base.Hash
	mc := &object.Commit{Author: by, Committer: by, Message: message, TreeHash: tree, ParentHashes: []plumbing.Hash{baseHead, head}}
	written, err := r.storeCommit(mc)
	if err != nil {
		return nil, err
	}
	err = r.push(ctx, written, f.base.TreeHash, plumbing.NewBranchReferenceName(base), baseHead)
	if errors.Is(err, gitpush.ErrStale) {
		return nil, fmt.Errorf("merge into %s: %w", base, ErrBaseMoved)
	}
	if err != nil {
		return nil, fmt.Errorf("merge into %s: %w", base, err)
	}
	return written, nil
}

// mergeTree applies the branch's change (from, the fork point, -> prop) to the base tree. When the
// base is still where the proposal started, that is the proposal's tree; otherwise
// each file the proposal changes must be unchanged on the base since.
func (r *Repo) mergeTree(base, from, prop *object.Commit) (plumbing.Hash, error) {
	if base.Hash == from.Hash {
		return prop.TreeHash, nil
	}
	fromTree, err := from.Tree()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	propTree, err := prop.Tree()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	baseTree, err := base.Tree()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	changes, err := object.DiffTree(fromTree, propTree)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	edits := map[string]*plumbing.Hash{}
	for _, c := range changes {
		action, err := c.Action()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		name := c.To.Name
		if action == merkletrie.Delete {
			name = c.From.Name
		}
		before, now := entryHash(fromTree, name), entryHash(baseTree, name)
		if before != now {
			return plumbing.ZeroHash, fmt.Errorf("%s: %w since the proposal", name, ErrMergeConflict)
		}
		if action == merkletrie.Delete {
			edits[name] = nil
			continue
		}
		h := c.To.TreeEntry.Hash
		edits[name] = &h
	}
	return gittree.Edit(r.objects, baseTree.Hash, edits)
}

// entryHash is the hash of a path in a tree, zero when absent.
func entryHash(t *object.Tree, name string) plumbing.Hash {
	e, err := t.FindEntry(name)
	if err != nil {
		return plumbing.ZeroHash
	}
	return e.Hash
}
