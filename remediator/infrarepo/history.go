package infrarepo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitpush"
)

// Proposal is what Git says about one proposal branch.
type Proposal struct {
	Branch  string
	ID      string
	Policy  string
	Created time.Time
	// Merged is true when the branch head is already in the base branch.
	Merged bool
}

// Proposals lists the proposal branches (prefix remediation/) as last fetched, from the
// trailers of their head commits: the forge state limits are counted from, so a
// restart resets nothing.
func (r *Repo) Proposals(prefix, base string) ([]Proposal, error) {
	baseHead, ok := r.Branch(base)
	if !ok {
		return nil, fmt.Errorf("no base branch %q", base)
	}
	baseCommit, err := r.repo.CommitObject(baseHead)
	if err != nil {
		return nil, err
	}
	branches, err := r.Branches(prefix)
	if err != nil {
		return nil, err
	}
	var out []Proposal
	for _, b := range branches {
		h, _ := r.Branch(b)
		c, err := r.repo.CommitObject(h)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", b, err)
		}
		t := Trailers(c.Message)
		merged, err := c.IsAncestor(baseCommit)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", b, err)
		}
		out = append(out, Proposal{Branch: b, ID: t["Remediation-Id"], Policy: t["Policy"], Created: c.Committer.When, Merged: merged})
	}
	return out, nil
}

// Trailers reads the trailer block (the last paragraph of "Key: value" lines) of a
// commit message.
func Trailers(msg string) map[string]string {
	paras := strings.Split(strings.TrimRight(msg, "\n"), "\n\n")
	out := map[string]string{}
	for _, line := range strings.Split(paras[len(paras)-1], "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return map[string]string{}
		}
		out[k] = v
	}
	return out
}

// ReadFile reads a file (slash-separated path) at a commit of the mirror.
func (r *Repo) ReadFile(commit plumbing.Hash, name string) ([]byte, error) {
	c, err := r.repo.CommitObject(commit)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", name, commit, err)
	}
	f, err := c.File(name)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", name, commit, err)
	}
	s, err := f.Contents()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", name, commit, err)
	}
	return []byte(s), nil
}

// Commit reads a commit of the mirror.
func (r *Repo) Commit(h plumbing.Hash) (*object.Commit, error) {
	return r.repo.CommitObject(h)
}

// IsMerged says whether commit is already part of the base branch. Dates are claims
// (remediator/TRUST.md): the walk back from the base is bounded by the graph, not by
// the dates commits carry. Nothing older than commit can reach it, so the walk stops
// at commit's own ancestors, found along its first-parent line two steps per commit
// the walk reads (so that it catches up with a walk down an older side branch): a
// proposal forks from the base's recent history, so the two walks meet there instead
// of reading the base's 20,000 commits.
func (r *Repo) IsMerged(commit plumbing.Hash, base string) (bool, error) {
	baseHead, ok := r.Branch(base)
	if !ok {
		return false, fmt.Errorf("no base branch %q", base)
	}
	c, err := r.repo.CommitObject(commit)
	if err != nil {
		return false, err
	}
	older := ancestorLine{repo: r.repo, known: map[plumbing.Hash]bool{}}
	if c.NumParents() > 0 {
		older.next = c.ParentHashes[0]
	}
	seen := map[plumbing.Hash]bool{}
	queue := []plumbing.Hash{baseHead}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if h == commit {
			return true, nil
		}
		for range 2 {
			if err := older.step(); err != nil {
				return false, err
			}
		}
		if seen[h] || older.known[h] {
			continue
		}
		seen[h] = true
		cur, err := r.repo.CommitObject(h)
		if err != nil {
			return false, err
		}
		queue = append(queue, cur.ParentHashes...)
	}
	return false, nil
}

// ancestorLine reads a commit's first-parent line one commit at a time: each commit
// it knows is an ancestor of that commit, and so can never lead back to it.
type ancestorLine struct {
	repo  *git.Repository
	known map[plumbing.Hash]bool
	next  plumbing.Hash
}

// step reads the next commit of the line, if any.
func (a *ancestorLine) step() error {
	if a.next.IsZero() {
		return nil
	}
	c, err := a.repo.CommitObject(a.next)
	if err != nil {
		return fmt.Errorf("read ancestor %s: %w", a.next, err)
	}
	a.known[c.Hash] = true
	a.next = plumbing.ZeroHash
	if c.NumParents() > 0 {
		a.next = c.ParentHashes[0]
	}
	return nil
}

// Stat summarises a commit's change against its first parent, per file.
func (r *Repo) Stat(h plumbing.Hash) ([]FileStat, error) {
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return nil, err
	}
	var parentTree plumbing.Hash
	if len(c.ParentHashes) > 0 {
		p, err := r.repo.CommitObject(c.ParentHashes[0])
		if err != nil {
			return nil, fmt.Errorf("diff %s: %w", h, err)
		}
		parentTree = p.TreeHash
	}
	stats, err := statTrees(r.repo.Storer, parentTree, c.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", h, err)
	}
	return stats, nil
}

// WalkFirstParent calls fn for each commit of the base branch's first-parent line,
// newest first, until fn returns an error (storer.ErrStop ends it quietly).
func (r *Repo) WalkFirstParent(base string, fn func(*object.Commit) error) error {
	head, ok := r.Branch(base)
	if !ok {
		return fmt.Errorf("no base branch %q", base)
	}
	h := head
	for {
		c, err := r.repo.CommitObject(h)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		if c.NumParents() == 0 {
			return nil
		}
		h = c.ParentHashes[0]
	}
}

// MirrorDir is the mirror's directory, for readers that walk it (the audit).
func (r *Repo) MirrorDir() string { return r.mirror }

// DeleteBranch removes a branch from the repository if and only if it is still at
// old, and from the mirror.
func (r *Repo) DeleteBranch(ctx context.Context, branch string, old plumbing.Hash) error {
	if err := r.refreshAuth(ctx); err != nil {
		return err
	}
	ref := plumbing.NewBranchReferenceName(branch)
	if err := (gitpush.Remote{URL: r.url, Auth: r.auth}).Delete(ctx, ref, old); err != nil {
		return fmt.Errorf("delete %s: %w", branch, err)
	}
	_ = r.repo.Storer.RemoveReference(ref)
	_ = r.ForgetSeen(branch) // the remediator's own deletion is no rejection
	return nil
}

// ChangedFiles lists the paths that differ between the merge base of the base branch
// and head, and head: what merging head would change.
func (r *Repo) ChangedFiles(base string, head plumbing.Hash) ([]string, error) {
	f, err := r.forkOf(base, head)
	if err != nil {
		return nil, err
	}
	return diffFiles(f.from, f.head)
}

// CommitFiles lists the paths a commit changes against its first parent (all of its
// files for a root commit).
func (r *Repo) CommitFiles(h plumbing.Hash) ([]string, error) {
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return nil, err
	}
	if c.NumParents() == 0 {
		return diffFiles(nil, c)
	}
	p, err := c.Parent(0)
	if err != nil {
		return nil, err
	}
	return diffFiles(p, c)
}

func diffFiles(from, to *object.Commit) ([]string, error) {
	toTree, err := to.Tree()
	if err != nil {
		return nil, err
	}
	var fromTree *object.Tree
	if from != nil {
		if fromTree, err = from.Tree(); err != nil {
			return nil, err
		}
	}
	changes, err := object.DiffTree(fromTree, toTree)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range changes {
		for _, name := range []string{c.From.Name, c.To.Name} {
			if name != "" && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
