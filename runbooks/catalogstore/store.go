package catalogstore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitauth"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitpush"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

const remoteName = "origin"

// ErrExists is returned by Create when the document is already in the catalog.
var ErrExists = errors.New("already exists in the catalog")

// Store reads and writes one catalog in one branch of one repository. Objects are kept
// in memory: the catalog is small and nothing is written to local disk. A Store is
// safe for concurrent use.
type Store struct {
	opts Options
	url  string
	auth transport.AuthMethod
	// direct, when set, updates a bare repository on this machine in this process
	// instead of through git receive-pack (gitpush.Direct): what a push costs there.
	direct atomic.Pointer[gitpush.Direct]

	// gitMu serialises use of repo: go-git's memory storage is not meant for
	// concurrent writers.
	gitMu sync.Mutex
	repo  *git.Repository
	// knownHead is where this store last saw the branch, by its own push or a fetch
	// (zero: the branch did not exist), while headKnown: the base a write tries
	// first. If the branch has moved since, the push is refused (compare-and-swap)
	// and the write fetches and tries again; in the usual case it saves a fetch.
	knownHead plumbing.Hash
	headKnown bool

	// lastPush is when this store's last push returned; returnDelay how long after
	// a push writes usually arrive (a moving average): the committer waits for a
	// round by it (see linger). Guarded by mu.
	lastPush    time.Time
	returnDelay time.Duration

	// mu guards the queue of writes waiting to be committed.
	mu       sync.Mutex
	pending  []*op
	flushing bool
	// waiting counts the writers waiting for their write to be pushed, peakWaiting
	// the most there ever were at once (Terraform's parallelism, for the provider):
	// when that many wait, the round is complete and the committer stops gathering.
	waiting, peakWaiting int
}

// Open connects to the catalog repository and fetches its branch. An empty repository,
// or one without the branch, is fine: the first write creates the branch.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	u, auth, err := opts.endpoint()
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	if err := checkBranch(opts.Branch); err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	if d := path.Clean(opts.Directory); strings.HasPrefix(d, "..") || strings.HasPrefix(d, "/") {
		return nil, fmt.Errorf("open catalog: directory %q must be a relative path inside the repository", opts.Directory)
	}
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{u}}); err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	s := &Store{opts: opts, url: u, auth: auth, repo: repo}
	if _, err := s.fetch(ctx); err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	if d, err := gitpush.OpenDirect(ctx, u); err == nil {
		s.direct.Store(d)
	} else {
		opts.Logger.Debug("catalog pushes go through git receive-pack", "reason", err)
	}
	return s, nil
}

func checkBranch(b string) error {
	if b == "" || strings.HasPrefix(b, "-") || strings.Contains(b, "..") || strings.ContainsAny(b, " ~^:?*[\\") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".lock") {
		return fmt.Errorf("branch %q is not a valid Git branch name", b)
	}
	return nil
}

// notePush records a successful push: the remote-tracking ref moves to the commit, so
// later reads see the write without a fetch.
func (s *Store) notePush(commit plumbing.Hash) {
	_ = s.repo.Storer.SetReference(plumbing.NewHashReference(s.remoteRef(), commit))
	s.knownHead, s.headKnown = commit, true
	s.mu.Lock()
	s.lastPush = s.opts.Now()
	s.mu.Unlock()
}

// average moves a moving average an eighth of the way to d (the first value as it
// is: from zero, the first rounds would not wait).
func average(avg, d time.Duration) time.Duration {
	if avg == 0 {
		return d
	}
	return avg + (d-avg)/8
}

// Directory is the catalog's directory inside the repository.
func (s *Store) Directory() string { return path.Clean(s.opts.Directory) }

// Branch is the catalog's branch.
func (s *Store) Branch() string { return s.opts.Branch }

func (s *Store) remoteRef() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(remoteName, s.opts.Branch)
}

// fetch brings the branch up to date and returns its head, ZeroHash when the branch
// does not exist yet. Callers hold no lock; fetch takes gitMu.
func (s *Store) fetch(ctx context.Context) (plumbing.Hash, error) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	return s.fetchLocked(ctx)
}

func (s *Store) fetchLocked(ctx context.Context) (plumbing.Hash, error) {
	head, err := s.fetchHead(ctx)
	s.knownHead, s.headKnown = head, err == nil
	return head, err
}

func (s *Store) fetchHead(ctx context.Context) (plumbing.Hash, error) {
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", s.opts.Branch, s.remoteRef()))
	err := s.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: s.auth, Tags: git.NoTags, Force: true})
	var noMatch git.NoMatchingRefSpecError
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
	case errors.Is(err, transport.ErrEmptyRemoteRepository), errors.As(err, &noMatch):
		// The branch does not exist yet; forget any stale idea of it.
		_ = s.repo.Storer.RemoveReference(s.remoteRef())
		return plumbing.ZeroHash, nil
	default:
		return plumbing.ZeroHash, fmt.Errorf("fetch %s from %s: %w", s.opts.Branch, gitauth.RedactURL(s.url), err)
	}
	ref, err := s.repo.Reference(s.remoteRef(), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s: %w", s.opts.Branch, err)
	}
	return ref.Hash(), nil
}

// Snapshot fetches the branch and returns the catalog files at its head.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	head, err := s.fetchLocked(ctx)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return s.snapshotLocked(head)
}

// SnapshotAt returns the catalog files at a commit, tag or branch of the repository.
func (s *Store) SnapshotAt(ctx context.Context, ref string) (*Snapshot, error) {
	if ref == "" || ref == s.opts.Branch {
		return s.Snapshot(ctx)
	}
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	if plumbing.IsHash(ref) {
		h := plumbing.NewHash(ref)
		if _, err := s.repo.CommitObject(h); err == nil {
			return s.snapshotLocked(h)
		}
		// Not known yet: fetching the branch may bring it.
		if _, err := s.fetchLocked(ctx); err != nil {
			return nil, fmt.Errorf("read catalog at %s: %w", ref, err)
		}
		return s.snapshotLocked(h)
	}
	local := plumbing.ReferenceName("refs/remotes/" + remoteName + "/at/" + ref)
	specs := []config.RefSpec{
		config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", ref, local)),
		config.RefSpec(fmt.Sprintf("+refs/tags/%s:%s", ref, local)),
	}
	var lastErr error
	for _, spec := range specs {
		err := s.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: []config.RefSpec{spec}, Auth: s.auth, Tags: git.NoTags, Force: true})
		if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
			r, err := s.repo.Reference(local, true)
			if err != nil {
				return nil, fmt.Errorf("read catalog at %s: %w", ref, err)
			}
			h := r.Hash()
			if tag, err := s.repo.TagObject(h); err == nil {
				h = tag.Target
			}
			return s.snapshotLocked(h)
		}
		lastErr = err
	}
	return nil, fmt.Errorf("read catalog at %s: no such branch, tag or commit: %w", ref, lastErr)
}

func (s *Store) snapshotLocked(head plumbing.Hash) (*Snapshot, error) {
	snap := &Snapshot{Head: head.String(), dir: s.Directory(), files: map[string][]byte{}}
	if head.IsZero() {
		snap.Head = ""
		return snap, nil
	}
	commit, err := s.repo.CommitObject(head)
	if err != nil {
		return nil, fmt.Errorf("read catalog at %s: %w", head, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("read catalog at %s: %w", head, err)
	}
	for _, sub := range []string{runbooks.RunbooksDir, runbooks.PoliciesDir} {
		dir := path.Join(snap.dir, sub)
		t, err := tree.Tree(dir)
		if errors.Is(err, object.ErrDirectoryNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read catalog at %s: %s: %w", head, dir, err)
		}
		err = t.Files().ForEach(func(f *object.File) error {
			content, err := f.Contents()
			if err != nil {
				return err
			}
			snap.files[path.Join(dir, f.Name)] = []byte(content)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read catalog at %s: %w", head, err)
		}
	}
	return snap, nil
}

// Snapshot is the catalog's files at one commit.
type Snapshot struct {
	// Head is the commit read, "" when the branch does not exist yet.
	Head  string
	dir   string
	files map[string][]byte
}

// Catalog decodes and validates every document; all problems are reported at once.
func (s *Snapshot) Catalog() (*runbooks.Catalog, error) {
	return runbooks.LoadFiles(s.dir, s.files)
}

// Raw returns a document's file content and whether it exists.
func (s *Snapshot) Raw(kind, name string) ([]byte, bool) {
	b, ok := s.files[runbooks.DocumentPath(s.dir, kind, name)]
	return b, ok
}

// Get decodes one document; found is false when it does not exist.
func (s *Snapshot) Get(kind, name string) (doc runbooks.Document, found bool, err error) {
	p := runbooks.DocumentPath(s.dir, kind, name)
	b, ok := s.files[p]
	if !ok {
		return nil, false, nil
	}
	doc, err = runbooks.Decode(p, b)
	if err != nil {
		return nil, true, err
	}
	if doc.DocumentKind() != kind || doc.DocumentName() != name {
		return nil, true, fmt.Errorf("%s: holds %s %q, expected %s %q", p, doc.DocumentKind(), doc.DocumentName(), kind, name)
	}
	return doc, true, nil
}

// Names lists the documents of a kind, sorted.
func (s *Snapshot) Names(kind string) []string {
	sub := runbooks.RunbooksDir
	if kind == runbooks.KindPolicy {
		sub = runbooks.PoliciesDir
	}
	prefix := path.Join(s.dir, sub) + "/"
	var names []string
	for p := range s.files {
		if rest, ok := strings.CutPrefix(p, prefix); ok && strings.HasSuffix(rest, ".yaml") && !strings.Contains(rest, "/") {
			names = append(names, strings.TrimSuffix(rest, ".yaml"))
		}
	}
	sort.Strings(names)
	return names
}

// SnapshotAsOf returns the catalog as it was published at a time: the newest commit
// of the branch's first-parent history committed at or before it. An empty snapshot
// (Head "") when the catalog did not exist yet. The audit judges each merge by it.
func (s *Store) SnapshotAsOf(ctx context.Context, at time.Time) (*Snapshot, error) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	head, err := s.fetchLocked(ctx)
	if err != nil {
		return nil, fmt.Errorf("read catalog history: %w", err)
	}
	for h := head; !h.IsZero(); {
		c, err := s.repo.CommitObject(h)
		if err != nil {
			return nil, fmt.Errorf("read catalog history: %w", err)
		}
		if !c.Committer.When.After(at) {
			return s.snapshotLocked(h)
		}
		if c.NumParents() == 0 {
			break
		}
		h = c.ParentHashes[0]
	}
	return s.snapshotLocked(plumbing.ZeroHash)
}
