// Package infrarepo does the Git work of a proposal on the infrastructure repository:
// a mirror cached in the state directory (fetched, never re-cloned), a work tree of
// the base for the edits, and a commit pushed to the proposal branch with
// compare-and-swap: a branch that already exists is never overwritten.
package infrarepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitauth"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitpush"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// ErrBranchExists is returned by Push when the proposal branch already exists.
var ErrBranchExists = errors.New("branch already exists")

// Repo is the infrastructure repository as the remediator sees it.
type Repo struct {
	url    string
	raw    string
	auth   transport.AuthMethod
	tokens TokenFunc
	mirror string
	repo   *git.Repository
	// objects is where the remediator writes the objects of its commits: the
	// mirror's, loose, at zlib's best speed (gittree.Loose).
	objects storer.EncodedObjectStorer
	// release gives the mirror back (see claimMirror).
	release func() error
	// Signer signs every commit the remediator makes here (proposals, merges,
	// rollbacks), so its own work can be told from anyone else's; nil signs nothing.
	Signer *signing.Key
}

// TokenFunc returns the current https password for the repository: a GitHub App's
// installation token expires within the hour, so it is asked for before each use.
type TokenFunc func(context.Context) (string, error)

// Open opens (or creates, on first use) the mirror under stateDir and fetches.
func Open(ctx context.Context, url, token, stateDir string) (*Repo, error) {
	return OpenWith(ctx, url, nil, token, stateDir)
}

// OpenWith is Open with a token asked for before each fetch and push; a nil tokens
// uses the fixed token.
func OpenWith(ctx context.Context, url string, tokens TokenFunc, token, stateDir string) (*Repo, error) {
	raw := url
	url, auth, err := gitauth.Endpoint(url, token, "")
	if err != nil {
		return nil, fmt.Errorf("open infrastructure repository: %w", err)
	}
	mirror, release, err := claimMirror(filepath.Join(stateDir, "mirror"))
	if err != nil {
		return nil, err
	}
	r := &Repo{url: url, raw: raw, auth: auth, tokens: tokens, mirror: mirror, release: release}
	repo, err := git.PlainOpen(r.mirror)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainInit(r.mirror, true)
		if err == nil {
			_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}})
		}
	}
	if err != nil {
		_ = release()
		return nil, fmt.Errorf("open infrastructure mirror %s: %w", r.mirror, err)
	}
	r.repo = repo
	r.objects = gittree.NewLoose(repo.Storer, filepath.Join(r.mirror, "objects"))
	if err := r.Fetch(ctx); err != nil {
		_ = release()
		return nil, err
	}
	return r, nil
}

// Close gives the mirror back for the next process; the Repo is not used after.
func (r *Repo) Close() error {
	if r.release == nil {
		return nil
	}
	err := r.release()
	r.release = nil
	return err
}

// refreshAuth asks the token function, when there is one, for the current token.
func (r *Repo) refreshAuth(ctx context.Context) error {
	if r.tokens == nil {
		return nil
	}
	tok, err := r.tokens(ctx)
	if err != nil {
		return fmt.Errorf("infrastructure repository credentials: %w", err)
	}
	_, auth, err := gitauth.Endpoint(r.raw, tok, "")
	if err != nil {
		return err
	}
	r.auth = auth
	return nil
}

// Fetch brings every branch of the infrastructure repository into the mirror.
func (r *Repo) Fetch(ctx context.Context) error {
	if err := r.refreshAuth(ctx); err != nil {
		return err
	}
	err := r.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin", Auth: r.auth, Force: true, Prune: true,
		// A true mirror: the repository's branches are the mirror's branches.
		RefSpecs: []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/notes/*:refs/notes/*", "+refs/remediation/*:refs/remediation/*"},
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch infrastructure repository %s: %w", gitauth.RedactURL(r.url), err)
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

// WorkTree is a sparse work tree of the base branch: a temporary directory that holds
// only the files a proposal touches (and the symlinks on their way), written from the
// mirror on demand. A repository of any size costs the same: nothing else is checked
// out, and the commit is built by editing the base tree in the object store.
type WorkTree struct {
	Dir      string
	Base     plumbing.Hash
	baseTree *object.Tree
	r        *Repo
}

// Checkout prepares a sparse work tree of the base branch as last fetched.
func (r *Repo) Checkout(_ context.Context, base string) (*WorkTree, error) {
	head, ok := r.Branch(base)
	if !ok {
		return nil, fmt.Errorf("infrastructure repository has no branch %q", base)
	}
	c, err := r.repo.CommitObject(head)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", base, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", base, err)
	}
	dir, err := os.MkdirTemp("", "remediation-worktree-")
	if err != nil {
		return nil, err
	}
	return &WorkTree{Dir: dir, Base: head, baseTree: tree, r: r}, nil
}

// Close removes the work tree.
func (w *WorkTree) Close() error { return os.RemoveAll(w.Dir) }

// maxSymlinks bounds symlink chains, as the kernel does.
const maxSymlinks = 40

// Materialize writes the file at rel (slash-separated) from the base into the work
// tree, with the directories and symlinks on its path, following symlinks the way
// the edits resolve them: inside the repository, an absolute target taken from its
// root. A path the base does not hold is left absent.
func (w *WorkTree) Materialize(rel string) error {
	return w.materialize(rel, 0)
}

func (w *WorkTree) materialize(rel string, depth int) error {
	if depth > maxSymlinks {
		return fmt.Errorf("%s: too many levels of symbolic links", rel)
	}
	parts := strings.Split(clampPath(rel), "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		entry, found, err := w.entry(parts[:i+1])
		if err != nil {
			return fmt.Errorf("read %s: %w", prefix, err)
		}
		if !found {
			return nil // absent: the edit reports it
		}
		dst := filepath.Join(w.Dir, filepath.FromSlash(prefix))
		switch entry.Mode {
		case filemode.Dir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case filemode.Symlink:
			target, err := w.blob(entry.Hash)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
				if err := os.Symlink(string(target), dst); err != nil {
					return err
				}
			}
			next := path.Join(path.Dir(prefix), string(target))
			if path.IsAbs(string(target)) {
				next = string(target)
			}
			return w.materialize(path.Join(append([]string{next}, parts[i+1:]...)...), depth+1)
		case filemode.Regular, filemode.Executable:
			if i != len(parts)-1 {
				return nil // a file where a directory should be
			}
			data, err := w.blob(entry.Hash)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if entry.Mode == filemode.Executable {
				mode = 0o755
			}
			return os.WriteFile(dst, data, mode)
		default:
			return nil // submodules are never edited
		}
	}
	return nil
}

// entry looks a path up in the base tree, reading the trees on its way raw: a
// directory of 10,000 files is scanned, not decoded into 10,000 objects.
func (w *WorkTree) entry(parts []string) (object.TreeEntry, bool, error) {
	tree := w.baseTree.Hash
	for i, name := range parts {
		raw, err := gittree.ReadRaw(w.r.repo.Storer, tree)
		if err != nil {
			return object.TreeEntry{}, false, err
		}
		e, found, err := gittree.Find(raw, name)
		if err != nil || !found {
			return object.TreeEntry{}, false, err
		}
		if i == len(parts)-1 {
			mode, err := filemode.New(string(e.Mode))
			return object.TreeEntry{Name: name, Mode: mode, Hash: e.Hash}, err == nil, err
		}
		if !e.IsDir() {
			return object.TreeEntry{}, false, nil // a file where a directory should be
		}
		tree = e.Hash
	}
	return object.TreeEntry{}, false, nil
}

// clampPath cleans a path the way a root-confined lookup sees it: ".." never climbs
// above the root and a leading "/" is the root.
func clampPath(p string) string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	return strings.Join(out, "/")
}

func (w *WorkTree) blob(h plumbing.Hash) ([]byte, error) {
	b, err := w.r.repo.BlobObject(h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// Commit records the given files of the work tree (slash-separated, relative) on top
// of the base, without a full checkout: their blobs are stored and the base tree is
// edited along their paths. A listed file absent from the work tree is deleted.
func (w *WorkTree) Commit(files []string, message, authorName, authorEmail string, when time.Time) (*object.Commit, error) {
	st := w.r.objects
	edits := map[string]*plumbing.Hash{}
	for _, f := range files {
		p := filepath.Join(w.Dir, filepath.FromSlash(f))
		info, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			edits[f] = nil // removed from the work tree: deleted (a revert of a file's creation)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", f, err)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("stage %s: not a regular file", f)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", f, err)
		}
		h, err := gittree.WriteBlob(st, data)
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", f, err)
		}
		edits[f] = &h
	}
	tree, err := gittree.Edit(st, w.baseTree.Hash, edits)
	if err != nil {
		return nil, fmt.Errorf("build tree: %w", err)
	}
	sig := object.Signature{Name: authorName, Email: authorEmail, When: when}
	return w.r.storeCommit(&object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree, ParentHashes: []plumbing.Hash{w.Base}})
}

// storeCommit writes a commit object to the mirror and reads it back.
func (r *Repo) storeCommit(c *object.Commit) (*object.Commit, error) {
	if r.Signer != nil {
		if err := signing.SignCommit(c, r.Signer); err != nil {
			return nil, err
		}
	}
	obj := r.objects.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return nil, fmt.Errorf("encode commit: %w", err)
	}
	h, err := r.objects.SetEncodedObject(obj)
	if err != nil {
		return nil, fmt.Errorf("store commit: %w", err)
	}
	return r.repo.CommitObject(h)
}

// push sets ref on the remote to c if it is at old (zero: absent), sending the
// objects c adds to parentTree, with fresh credentials; the mirror follows on success.
func (r *Repo) push(ctx context.Context, c *object.Commit, parentTree plumbing.Hash, ref plumbing.ReferenceName, old plumbing.Hash) error {
	if err := r.refreshAuth(ctx); err != nil {
		return err
	}
	if err := (gitpush.Remote{URL: r.url, Auth: r.auth}).Update(ctx, r.repo.Storer, c, parentTree, ref, old); err != nil {
		return err
	}
	r.pushed(ref, c.Hash)
	return nil
}

// pushed makes the mirror follow a ref the remote accepted.
func (r *Repo) pushed(ref plumbing.ReferenceName, h plumbing.Hash) {
	_ = r.repo.Storer.SetReference(plumbing.NewHashReference(ref, h))
	if branch, ok := strings.CutPrefix(ref.String(), "refs/heads/remediation/"); ok {
		// A proposal the remediator pushed is one it has seen: deleted by anyone
		// else before the next pass, it is a rejection.
		_ = r.MarkSeen("remediation/"+branch, h)
	}
}

// Diff is the unified diff of a commit against the base.
func (w *WorkTree) Diff(c *object.Commit) (string, error) {
	base, err := w.r.repo.CommitObject(w.Base)
	if err != nil {
		return "", err
	}
	patch, err := base.Patch(c)
	if err != nil {
		return "", err
	}
	return patch.String(), nil
}

// Stat summarises a commit's change against the base, per file.
func (w *WorkTree) Stat(c *object.Commit) ([]FileStat, error) {
	return statTrees(w.r.repo.Storer, w.baseTree.Hash, c.TreeHash)
}

// Push creates the branch at the commit. It never moves an existing branch: when the
// branch exists (another replica, or an earlier run, got there first) it returns
// ErrBranchExists.
func (w *WorkTree) Push(ctx context.Context, c *object.Commit, branch string) error {
	return w.PushOver(ctx, c, branch, plumbing.ZeroHash)
}

// PushOver moves the branch from old to the commit, and only from old: the
// compare-and-swap that replaces a closed or merged proposal's stale branch. With old
// zero it creates the branch. A branch that is not at old returns ErrBranchExists.
func (w *WorkTree) PushOver(ctx context.Context, c *object.Commit, branch string, old plumbing.Hash) error {
	err := w.r.push(ctx, c, w.baseTree.Hash, plumbing.NewBranchReferenceName(branch), old)
	if errors.Is(err, gitpush.ErrStale) {
		return fmt.Errorf("push %s: %w", branch, ErrBranchExists)
	}
	if err != nil {
		return fmt.Errorf("push %s to %s: %w", branch, gitauth.RedactURL(w.r.url), err)
	}
	return nil
}
