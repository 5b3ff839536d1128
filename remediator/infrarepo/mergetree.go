package infrarepo

import (
	"github.com/go-git/go-git/v5/plumbing"
)

// MergeTreeOf is what merging head into the base branch as it is now makes: the
// base's head (the merge's first parent) and the merge's tree, as Merge would build
// them. On GitHub, which makes the merge commit itself, the remediator seals these
// with its intent to merge, so its record binds the whole merge, not only the head.
func (r *Repo) MergeTreeOf(base string, head plumbing.Hash) (baseHead, tree plumbing.Hash, err error) {
	f, err := r.forkOf(base, head)
	if err != nil {
		return plumbing.ZeroHash, plumbing.ZeroHash, err
	}
	tree, err = r.mergeTree(f.base, f.from, f.head)
	return f.base.Hash, tree, err
}
