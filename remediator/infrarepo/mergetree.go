package infrarepo

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// MergeTreeOf is what merging head into the base branch as it is now makes: the
// base's head (the merge's first parent) and the merge's tree, as Merge would build
// them. On GitHub, which makes the merge commit itself, the remediator seals these
// with its intent to merge, so its record binds the whole merge, not only the head.
func (r *Repo) MergeTreeOf(base string, head plumbing.Hash) (baseHead, tree plumbing.Hash, err error) {
	baseHead, ok := r.Branch(base)
	if !ok {
		return plumbing.ZeroHash, plumbing.ZeroHash, fmt.Errorf("no base branch %q", base)
	}
	baseCommit, err := r.repo.CommitObject(baseHead)
	if err != nil {
		return plumbing.ZeroHash, plumbing.ZeroHash, err
	}
	prop, err := r.repo.CommitObject(head)
	if err != nil {
		return plumbing.ZeroHash, plumbing.ZeroHash, err
	}
	forks, err := prop.MergeBase(baseCommit)
	if err != nil {
		return plumbing.ZeroHash, plumbing.ZeroHash, fmt.Errorf("merge base of %s and %s: %w", head, base, err)
	}
	if len(forks) == 0 {
		return plumbing.ZeroHash, plumbing.ZeroHash, fmt.Errorf("merge base of %s and %s: none (unrelated histories)", head, base)
	}
	tree, err = r.mergeTree(baseCommit, forks[0], prop)
	return baseHead, tree, err
}
