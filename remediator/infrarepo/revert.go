package infrarepo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"
)

// Revert undoes one commit of the base branch for the files a runbook names.
type Revert struct {
	// Commit is the commit undone.
	Commit *object.Commit
	Files  []RevertFile
}

// RevertFile is one file put back as it was before the commit.
type RevertFile struct {
	Path    string
	Content []byte
	// Delete is true when the commit created the file.
	Delete bool
}

// ErrRevertConflict means a later commit changed a file the revert would put back:
// undoing the older commit blindly would undo the later one too.
var ErrRevertConflict = errors.New("a later commit changed the file")

// PlanRevert finds the newest commit on the base branch's first-parent history (a
// merged pull request is its merge commit), committed no earlier than since, that
// changes a path match accepts, and returns how to undo it for those paths. It
// returns nil when there is none.
func (r *Repo) PlanRevert(base string, since time.Time, match func(string) bool) (*Revert, error) {
	head, ok := r.Branch(base)
	if !ok {
		return nil, fmt.Errorf("no base branch %q", base)
	}
	headCommit, err := r.repo.CommitObject(head)
	if err != nil {
		return nil, err
	}
	headTree, err := headCommit.Tree()
	if err != nil {
		return nil, err
	}
	// The repository's first commit is never undone: there is nothing before it.
	for c := headCommit; c != nil && c.NumParents() > 0 && !c.Committer.When.Before(since); {
		parent, err := c.Parent(0)
		if err != nil {
			return nil, fmt.Errorf("read parent of %s: %w", c.Hash, err)
		}
		paths, err := changedPaths(parent, c, match)
		if err != nil {
			return nil, err
		}
		if len(paths) > 0 {
			return r.undo(c, parent, headTree, paths)
		}
		c = parent
	}
	return nil, nil
}

// changedPaths lists the paths match accepts that c changes against parent.
func changedPaths(parent, c *object.Commit, match func(string) bool) ([]string, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, err
	}
	ptree, err := parent.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTree(ptree, tree)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", c.Hash, err)
	}
	var out []string
	for _, ch := range changes {
		action, err := ch.Action()
		if err != nil {
			return nil, err
		}
		name := ch.To.Name
		if action == merkletrie.Delete {
			name = ch.From.Name
		}
		if match(name) {
			out = append(out, name)
		}
		if action == merkletrie.Modify && ch.From.Name != ch.To.Name && match(ch.From.Name) {
			out = append(out, ch.From.Name)
		}
	}
	return out, nil
}

func (r *Repo) undo(c, parent *object.Commit, headTree *object.Tree, paths []string) (*Revert, error) {
	rv := &Revert{Commit: c}
	for _, p := range paths {
		after, err := fileAt(c, p)
		if err != nil {
			return nil, err
		}
		now, err := treeFile(headTree, p)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(after, now) || (after == nil) != (now == nil) {
			return nil, fmt.Errorf("revert %s of %s: %w since; revert it by hand", p, c.Hash.String()[:12], ErrRevertConflict)
		}
		before, err := fileAt(parent, p)
		if err != nil {
			return nil, err
		}
		rv.Files = append(rv.Files, RevertFile{Path: p, Content: before, Delete: before == nil})
	}
	return rv, nil
}

func fileAt(c *object.Commit, p string) ([]byte, error) {
	t, err := c.Tree()
	if err != nil {
		return nil, err
	}
	return treeFile(t, p)
}

// treeFile reads a regular file of a tree; nil when absent. Symlinks and submodules
// are refused: a revert only puts back file contents.
func treeFile(t *object.Tree, p string) ([]byte, error) {
	e, err := t.FindEntry(p)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if e.Mode != filemode.Regular && e.Mode != filemode.Executable {
		return nil, fmt.Errorf("revert %s: not a regular file (mode %s)", p, e.Mode)
	}
	f, err := t.TreeEntryFile(e)
	if err != nil {
		return nil, err
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if data == nil && err == nil {
		data = []byte{}
	}
	return data, err
}

// PlanUndo returns how to undo one commit of the base (a merged remediation) for
// every file it changed against its first parent, but the paths skip accepts.
func (r *Repo) PlanUndo(base string, commit plumbing.Hash, skip func(string) bool) (*Revert, error) {
	head, ok := r.Branch(base)
	if !ok {
		return nil, fmt.Errorf("no base branch %q", base)
	}
	hc, err := r.repo.CommitObject(head)
	if err != nil {
		return nil, err
	}
	headTree, err := hc.Tree()
	if err != nil {
		return nil, err
	}
	c, err := r.repo.CommitObject(commit)
	if err != nil {
		return nil, err
	}
	parent, err := c.Parent(0)
	if err != nil {
		return nil, fmt.Errorf("undo %s: %w", commit, err)
	}
	paths, err := changedPaths(parent, c, func(p string) bool { return !skip(p) })
	if err != nil {
		return nil, err
	}
	return r.undo(c, parent, headTree, paths)
}
