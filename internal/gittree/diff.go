package gittree

import (
	"fmt"
	"path"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// BlobChange is a file that differs between two trees: its blob on each side, zero
// where the file is absent (added or deleted).
type BlobChange struct {
	Path     string
	From, To plumbing.Hash
}

// DiffBlobs lists the files that differ between two trees (zero: empty), in Git's
// path order, descending only into the directories whose hashes differ: a one-file
// change in a directory of 10,000 costs one pass over that directory's bytes, not an
// object per entry. Submodules are not files and are not listed; there is no rename
// detection (a renamed file is one deleted and one added, as go-git's Commit.Patch).
func DiffBlobs(s storer.EncodedObjectStorer, from, to plumbing.Hash) ([]BlobChange, error) {
	var out []BlobChange
	if err := diffTrees(s, "", from, to, &out); err != nil {
		return nil, fmt.Errorf("diff trees: %w", err)
	}
	return out, nil
}

func diffTrees(s storer.EncodedObjectStorer, dir string, from, to plumbing.Hash, out *[]BlobChange) error {
	if from == to {
		return nil
	}
	before, err := ReadRaw(s, from)
	if err != nil {
		return err
	}
	now, err := ReadRaw(s, to)
	if err != nil {
		return err
	}
	return DiffRaw(now, before, func(n, b *Entry) error {
		var e *Entry
		if e = n; e == nil {
			e = b
		}
		p := path.Join(dir, string(e.Name))
		var c BlobChange
		var subFrom, subTo plumbing.Hash
		if b != nil {
			if b.IsDir() {
				subFrom = b.Hash
			} else if !b.IsGitlink() {
				c.From = b.Hash
			}
		}
		if n != nil {
			if n.IsDir() {
				subTo = n.Hash
			} else if !n.IsGitlink() {
				c.To = n.Hash
			}
		}
		// A file replaced by a directory of the same name sorts apart from it, so
		// one call has at most one kind on each side.
		if !subFrom.IsZero() || !subTo.IsZero() {
			return diffTrees(s, p, subFrom, subTo, out)
		}
		if c.From.IsZero() && c.To.IsZero() {
			return nil // a submodule
		}
		c.Path = p
		*out = append(*out, c)
		return nil
	})
}
