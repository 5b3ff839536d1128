// Package infrarepo does the Git work of a proposal on the infrastructure repository:
// a mirror cached in the state directory (fetched, never re-cloned), a work tree of
// the base for the edits, and a commit pushed to the proposal branch with
// compare-and-swap: a branch that already exists is never overwritten.
package infrarepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// ErrBranchExists is returned by Push when the proposal branch already exists.
var ErrBranchExists = errors.New("branch already exists")

// Repo is the infrastructure repository as the remediator sees it.
type Repo struct {
	url    string
	auth   transport.AuthMethod
	mirror string
	repo   *git.Repository
}

// Open opens (or creates, on first use) the mirror under stateDir and fetches.
func Open(ctx context.Context, url, token, stateDir string) (*Repo, error) {
	if !strings.Contains(url, "://") {
		abs, err := filepath.Abs(url)
		if err != nil {
			return nil, err
		}
		url = abs
	}
	r := &Repo{url: url, mirror: filepath.Join(stateDir, "mirror", "infra.git")}
	if token != "" {
		r.auth = &githttp.BasicAuth{Username: "x-access-token", Password: token}
	}
	repo, err := git.PlainOpen(r.mirror)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if err := os.MkdirAll(filepath.Dir(r.mirror), 0o750); err != nil {
			return nil, fmt.Errorf("open infrastructure mirror: %w", err)
		}
		repo, err = git.PlainInit(r.mirror, true)
		if err == nil {
			_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open infrastructure mirror %s: %w", r.mirror, err)
	}
	r.repo = repo
	if err := r.Fetch(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Fetch brings every branch of the infrastructure repository into the mirror.
func (r *Repo) Fetch(ctx context.Context) error {
	err := r.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin", Auth: r.auth, Force: true, Prune: true,
		// A true mirror: the repository's branches are the mirror's branches.
		RefSpecs: []config.RefSpec{"+refs/heads/*:refs/heads/*"},
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch infrastructure repository %s: %w", catalogstore.RedactURL(r.url), err)
	}
	return nil
}

// Branch returns the head of a branch as last fetched; found is false when absent.
func (r *Repo) Branch(name string) (plumbing.Hash, bool) {
	ref, err := r.repo.Reference(plumbing.NewBranchReferenceName(name), true)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	return ref.Hash(), true
}

// Branches lists the branches with a prefix, as last fetched.
func (r *Repo) Branches(prefix string) ([]string, error) {
	refs, err := r.repo.References()
	if err != nil {
		return nil, err
	}
	var out []string
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		if name, ok := strings.CutPrefix(ref.Name().String(), "refs/heads/"); ok && strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
		return nil
	})
	return out, err
}

// WorkTree is a checkout of the base branch in a temporary directory.
type WorkTree struct {
	Dir  string
	Base plumbing.Hash
	repo *git.Repository
	r    *Repo
}

// Checkout makes a work tree of the base branch from the mirror.
func (r *Repo) Checkout(ctx context.Context, base string) (*WorkTree, error) {
	head, ok := r.Branch(base)
	if !ok {
		return nil, fmt.Errorf("infrastructure repository has no branch %q", base)
	}
	dir, err := os.MkdirTemp("", "remediation-worktree-")
	if err != nil {
		return nil, err
	}
	repo, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{
		URL: r.mirror, RemoteName: "mirror", ReferenceName: plumbing.NewBranchReferenceName(base),
		SingleBranch: true, Depth: 1, Tags: git.NoTags,
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("check out %s: %w", base, err)
	}
	return &WorkTree{Dir: dir, Base: head, repo: repo, r: r}, nil
}

// Close removes the work tree.
func (w *WorkTree) Close() error { return os.RemoveAll(w.Dir) }

// Commit records the given files (slash-separated, relative) on top of the base.
func (w *WorkTree) Commit(files []string, message, authorName, authorEmail string, when time.Time) (*object.Commit, error) {
	wt, err := w.repo.Worktree()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := wt.Add(f); err != nil {
			return nil, fmt.Errorf("stage %s: %w", f, err)
		}
	}
	sig := &object.Signature{Name: authorName, Email: authorEmail, When: when}
	h, err := wt.Commit(message, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return w.repo.CommitObject(h)
}

// Diff is the unified diff of a commit against the base.
func (w *WorkTree) Diff(c *object.Commit) (string, error) {
	base, err := w.repo.CommitObject(w.Base)
	if err != nil {
		return "", err
	}
	patch, err := base.Patch(c)
	if err != nil {
		return "", err
	}
	return patch.String(), nil
}

// Push creates the branch at the commit. It never moves an existing branch: when the
// branch exists (another replica, or an earlier run, got there first) it returns
// ErrBranchExists.
func (w *WorkTree) Push(ctx context.Context, c *object.Commit, branch string) error {
	if _, err := w.repo.CreateRemote(&config.RemoteConfig{Name: "infra", URLs: []string{w.r.url}}); err != nil && !errors.Is(err, git.ErrRemoteExists) {
		return err
	}
	spec := config.RefSpec(fmt.Sprintf("%s:refs/heads/%s", c.Hash, branch))
	err := w.repo.PushContext(ctx, &git.PushOptions{RemoteName: "infra", RefSpecs: []config.RefSpec{spec}, Auth: w.r.auth})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, git.ErrNonFastForwardUpdate), strings.Contains(err.Error(), "already exists"),
		strings.Contains(err.Error(), "failed to update ref"), strings.Contains(err.Error(), "non-fast-forward"):
		return fmt.Errorf("push %s: %w", branch, ErrBranchExists)
	}
	return fmt.Errorf("push %s to %s: %w", branch, catalogstore.RedactURL(w.r.url), err)
}
