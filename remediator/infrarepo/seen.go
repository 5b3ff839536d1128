package infrarepo

import (
	"errors"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// seenPrefix holds, in the mirror only (never fetched over, never pushed), the heads
// of the proposal branches the last pass saw: what lets the next pass, in this
// process or the next one on the same state_dir, tell a branch someone deleted
// from one the remediator deleted itself (DeleteBranch forgets it).
const seenPrefix = "refs/remediator/seen/"

// Seen is each branch the last pass saw, with its head.
func (r *Repo) Seen() (map[string]plumbing.Hash, error) {
	refs, err := r.repo.Storer.IterReferences()
	if err != nil {
		return nil, err
	}
	out := map[string]plumbing.Hash{}
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		if name, ok := strings.CutPrefix(ref.Name().String(), seenPrefix); ok && ref.Type() == plumbing.HashReference {
			out[name] = ref.Hash()
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return nil, err
	}
	return out, nil
}

// MarkSeen remembers a branch's head as seen by this pass.
func (r *Repo) MarkSeen(branch string, head plumbing.Hash) error {
	return r.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(seenPrefix+branch), head))
}

// ForgetSeen forgets a branch.
func (r *Repo) ForgetSeen(branch string) error {
	return r.repo.Storer.RemoveReference(plumbing.ReferenceName(seenPrefix + branch))
}

// recordsPrefix holds, in the mirror only, where each records ref stood when the
// remediator last looked: a record it saw that a force push deleted since can be
// put back from the mirror's objects.
const recordsPrefix = "refs/remediator/records/"

// RememberedTip is where ref stood when RememberTip was last called for it.
func (r *Repo) RememberedTip(ref string) (plumbing.Hash, bool) {
	got, err := r.repo.Storer.Reference(plumbing.ReferenceName(recordsPrefix + ref))
	if err != nil || got.Type() != plumbing.HashReference {
		return plumbing.ZeroHash, false
	}
	return got.Hash(), true
}

// RememberTip remembers where ref stands now.
func (r *Repo) RememberTip(ref string, tip plumbing.Hash) error {
	return r.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(recordsPrefix+ref), tip))
}
