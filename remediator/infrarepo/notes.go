package infrarepo

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitpush"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
)

// Note reads the git note on commit under notesRef (e.g. refs/notes/remediation), as
// last fetched; found is false when there is none. Notes written by `git notes` with
// a fan-out (ab/cdef...) are read too.
func (r *Repo) Note(notesRef string, commit plumbing.Hash) (data []byte, found bool, err error) {
	ref, err := r.repo.Reference(plumbing.ReferenceName(notesRef), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, false, nil // no notes at all yet
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", notesRef, err)
	}
	return r.noteAt(ref.Hash(), commit)
}

func (r *Repo) noteAt(notesHead, commit plumbing.Hash) ([]byte, bool, error) {
	return NoteIn(r.repo.Storer, notesHead, commit)
}

// NoteIn reads the note on obj in the notes commit notesHead of any object store
// (the mirror's, or a walk's): found is false when there is none. Notes written by
// `git notes` with a fan-out (ab/cdef...) are read too.
func NoteIn(s storer.EncodedObjectStorer, notesHead, obj plumbing.Hash) ([]byte, bool, error) {
	c, err := object.GetCommit(s, notesHead)
	if err != nil {
		return nil, false, fmt.Errorf("read notes %s: %w", notesHead, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, false, fmt.Errorf("read notes %s: %w", notesHead, err)
	}
	name := obj.String()
	for _, p := range []string{name, name[:2] + "/" + name[2:], name[:2] + "/" + name[2:4] + "/" + name[4:]} {
		f, err := tree.File(p)
		if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("read note %s: %w", p, err)
		}
		text, err := f.Contents()
		if err != nil {
			return nil, false, fmt.Errorf("read note %s: %w", p, err)
		}
		return []byte(text), true, nil
	}
	return nil, false, nil
}

// UpdateNote rewrites the note on commit under notesRef with what update makes of the
// current one (nil when there is none) and pushes the notes ref with compare-and-swap,
// re-reading and retrying when another writer moved it first. Nothing is pushed when
// update returns the note unchanged.
func (r *Repo) UpdateNote(ctx context.Context, notesRef string, commit plumbing.Hash, message string, by object.Signature,
	update func(old []byte) ([]byte, error)) ([]byte, error) {
	ref := plumbing.ReferenceName(notesRef)
	for attempt := 0; attempt < 20; attempt++ {
		if attempt > 0 {
			if err := r.Fetch(ctx); err != nil {
				return nil, err
			}
		}
		var oldHead, oldTree plumbing.Hash
		var old []byte
		if cur, err := r.repo.Reference(ref, true); err == nil {
			oldHead = cur.Hash()
			c, err := r.repo.CommitObject(oldHead)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", notesRef, err)
			}
			oldTree = c.TreeHash
			if old, _, err = r.noteAt(oldHead, commit); err != nil {
				return nil, err
			}
		}
		next, err := update(old)
		if err != nil {
			return nil, err
		}
		if string(next) == string(old) && old != nil {
			return next, nil
		}
		st := r.objects
		blob, err := gittree.WriteBlob(st, next)
		if err != nil {
			return nil, err
		}
		edits := map[string]*plumbing.Hash{commit.String(): &blob}
		tree, err := gittree.Edit(st, oldTree, edits) // a zero oldTree is the empty tree
		if err != nil {
			return nil, fmt.Errorf("build notes tree: %w", err)
		}
		nc := &object.Commit{Author: by, Committer: by, Message: message, TreeHash: tree}
		if !oldHead.IsZero() {
			nc.ParentHashes = []plumbing.Hash{oldHead}
		}
		written, err := r.storeCommit(nc)
		if err != nil {
			return nil, err
		}
		err = r.push(ctx, written, oldTree, ref, oldHead)
		if errors.Is(err, gitpush.ErrStale) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("push %s: %w", notesRef, err)
		}
		return next, nil
	}
	return nil, fmt.Errorf("push %s: still racing other writers after 20 attempts", notesRef)
}

// Tip is where a ref (a notes ref, say) stood when last fetched; false when absent.
func (r *Repo) Tip(ref string) (plumbing.Hash, bool) {
	got, err := r.repo.Reference(plumbing.ReferenceName(ref), true)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	return got.Hash(), true
}

// Storer is the mirror's object store, for readers shared with the audit.
func (r *Repo) Storer() storer.EncodedObjectStorer { return r.repo.Storer }
