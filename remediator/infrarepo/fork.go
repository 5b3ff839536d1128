package infrarepo

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// fork is a proposal's head against the base branch as last fetched: the base's
// head, the proposal's head, and the commit the proposal forked from (their merge
// base). What a merge would change is from..head, applied to base.
type fork struct {
	base, head, from *object.Commit
}

// forkOf reads the fork of head from the base branch: what ChangedFiles, Merge and
// MergeTreeOf all start from.
func (r *Repo) forkOf(base string, head plumbing.Hash) (fork, error) {
	baseHead, ok := r.Branch(base)
	if !ok {
		return fork{}, fmt.Errorf("no base branch %q", base)
	}
	bc, err := r.repo.CommitObject(baseHead)
	if err != nil {
		return fork{}, fmt.Errorf("read %s: %w", base, err)
	}
	hc, err := r.repo.CommitObject(head)
	if err != nil {
		return fork{}, fmt.Errorf("read %s: %w", head, err)
	}
	forks, err := hc.MergeBase(bc)
	if err != nil {
		return fork{}, fmt.Errorf("merge base of %s and %s: %w", head, base, err)
	}
	if len(forks) == 0 {
		return fork{}, fmt.Errorf("%s shares no history with %s", head, base)
	}
	return fork{base: bc, head: hc, from: forks[0]}, nil
}
