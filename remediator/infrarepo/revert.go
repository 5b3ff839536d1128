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
	// Why says why this commit was chosen among the candidates.
	Why string
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

// Suspects bounds the commits a revert considers: those merged in the window before
// the anomaly started (a change made after it cannot have caused it).
type Suspects struct {
	From, Until time.Time
}

// maxRevertWalk bounds how far down the base's first-parent line a revert looks for
// its suspects: far beyond any window's worth of merges.
const maxRevertWalk = 2000

// PlanRevert finds the commit of the base branch's first-parent history (a merged
// pull request is its merge commit) most likely to have caused the anomaly: merged
// within the suspects' window, changing paths match accepts, and, among those, the
// one whose change lies most within them (matching files over changed files: a
// change to the service alone is a likelier cause than a sweeping one), the latest
// on a tie. It returns how to undo it for those paths, or nil when there is none.
func (r *Repo) PlanRevert(base string, w Suspects, match func(string) bool) (*Revert, error) {
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
	var (
		best                 *object.Commit
		bestParent           *object.Commit
		bestPaths            []string
		bestScore            float64
		bestTotal, suspected int
	)
	// The repository's first commit is never undone: there is nothing before it. The
	// walk is bounded by graph order, never by date: a commit's date is a claim, and
	// one back-dated commit on top must not end the walk before the culprit.
	for c, n := headCommit, 0; c != nil && c.NumParents() > 0 && n < maxRevertWalk; n++ {
		parent, err := c.Parent(0)
		if err != nil {
			return nil, fmt.Errorf("read parent of %s: %w", c.Hash, err)
		}
		if !c.Committer.When.After(w.Until) && !c.Committer.When.Before(w.From) {
			paths, total, err := changedPaths(parent, c, match)
			if err != nil {
				return nil, err
			}
			if len(paths) > 0 {
				suspected++
				if score := float64(len(paths)) / float64(total); best == nil || score > bestScore {
					best, bestParent, bestPaths, bestScore, bestTotal = c, parent, paths, score, total
				}
			}
		}
		c = parent
	}
	if best == nil {
		return nil, nil
	}
	rv, err := r.undo(best, bestParent, headTree, bestPaths)
	if err != nil {
		return nil, err
	}
	rv.Why = fmt.Sprintf("merged at %s, %s before the anomaly started at %s; %d of its %d changed file(s) are under the runbook's paths; the best match of %d candidate commit(s) merged from %s on",
		best.Committer.When.UTC().Format(time.RFC3339), w.Until.Sub(best.Committer.When).Round(time.Second), w.Until.UTC().Format(time.RFC3339),
		len(bestPaths), bestTotal, suspected, w.From.UTC().Format(time.RFC3339))
	return rv, nil
}

// changedPaths lists the paths match accepts that c changes against parent, and
// how many paths it changes in all.
func changedPaths(parent, c *object.Commit, match func(string) bool) ([]string, int, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, 0, err
	}
	ptree, err := parent.Tree()
	if err != nil {
		return nil, 0, err
	}
	changes, err := object.DiffTree(ptree, tree)
	if err != nil {
		return nil, 0, fmt.Errorf("diff %s: %w", c.Hash, err)
	}
	var out []string
	for _, ch := range changes {
		action, err := ch.Action()
		if err != nil {
			return nil, 0, err
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
	return out, len(changes), nil
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
	paths, _, err := changedPaths(parent, c, func(p string) bool { return !skip(p) })
	if err != nil {
		return nil, err
	}
	return r.undo(c, parent, headTree, paths)
}
