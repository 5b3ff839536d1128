package gitpush

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

var mainRef = plumbing.NewBranchReferenceName("main")

func openDirect(t *testing.T, repo string) *Direct {
	t.Helper()
	d, err := OpenDirect(context.Background(), repo)
	if err != nil {
		t.Fatalf("OpenDirect: %v", err)
	}
	return d
}

// newDirect is a new bare repository, its Direct, and a storage to build commits in.
func newDirect(t *testing.T) (string, *Direct, *memory.Storage) {
	t.Helper()
	repo := gittest.BareRepo(t)
	return repo, openDirect(t, repo), memory.NewStorage()
}

// fetchInto fetches main of repo into s, so that commits built in s can sit on it.
func fetchInto(ctx context.Context, repo string, s *memory.Storage) error {
	r, err := git.Open(s, nil)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if r, err = git.Init(s, nil); err == nil {
			_, err = r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{repo}})
		}
	}
	if err != nil {
		return err
	}
	err = r.FetchContext(ctx, &git.FetchOptions{RefSpecs: []config.RefSpec{"+refs/heads/main:refs/remotes/origin/main"}})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// TestDirectUpdateIsACompareAndSwap: a direct update moves the branch only from the
// value it expects, whether the branch is a loose ref or only in packed-refs; a
// refused one changes nothing and leaves no lock behind; git fsck finds the
// repository whole and git reads the new content.
func TestDirectUpdateIsACompareAndSwap(t *testing.T) {
	ctx := context.Background()
	repo, d, s := newDirect(t)
	first := commit(t, s, edit(t, s, plumbing.ZeroHash, map[string]string{"catalog/runbooks/a.yaml": "a\n"}), plumbing.ZeroHash)
	if err := d.Update(ctx, s, first, plumbing.ZeroHash, mainRef, plumbing.ZeroHash); err != nil {
		t.Fatalf("create the branch: %v", err)
	}
	// Creating it again, as if absent, is a lost race.
	if err := d.Update(ctx, s, first, plumbing.ZeroHash, mainRef, plumbing.ZeroHash); !errors.Is(err, ErrStale) {
		t.Fatalf("creating an existing branch: %v, want ErrStale", err)
	}
	second := commit(t, s, edit(t, s, first.TreeHash, map[string]string{"catalog/runbooks/b.yaml": "b\n"}), first.Hash)
	if err := d.Update(ctx, s, second, first.TreeHash, mainRef, first.Hash); err != nil {
		t.Fatalf("fast-forward: %v", err)
	}
	if got := gittest.Run(t, repo, "rev-parse", "main"); got != second.Hash.String() {
		t.Fatalf("main at %s, want %s", got, second.Hash)
	}
	gittest.Run(t, repo, "fsck", "--strict", "--no-dangling")
	if got := gittest.Run(t, repo, "show", "main:catalog/runbooks/b.yaml"); got != "b" {
		t.Errorf("git reads b.yaml as %q", got)
	}

	// Only in packed-refs now: read there.
	gittest.Run(t, repo, "pack-refs", "--all", "--prune")
	if _, err := os.Stat(filepath.Join(repo, "refs/heads/main")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("main is still a loose ref after pack-refs: %v", err)
	}
	third := commit(t, s, edit(t, s, second.TreeHash, map[string]string{"catalog/runbooks/c.yaml": "c\n"}), second.Hash)
	stale := commit(t, s, edit(t, s, first.TreeHash, map[string]string{"catalog/runbooks/x.yaml": "x\n"}), first.Hash)
	if err := d.Update(ctx, s, stale, first.TreeHash, mainRef, first.Hash); !errors.Is(err, ErrStale) {
		t.Fatalf("update from a stale head: %v, want ErrStale", err)
	}
	if got := gittest.Run(t, repo, "rev-parse", "main"); got != second.Hash.String() {
		t.Fatalf("a refused update moved main to %s", got)
	}
	if _, err := os.Stat(filepath.Join(repo, "refs/heads/main.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused update left its lock: %v", err)
	}
	if err := d.Update(ctx, s, third, second.TreeHash, mainRef, second.Hash); err != nil {
		t.Fatalf("update of a packed ref: %v", err)
	}
	if got := gittest.Run(t, repo, "log", "--format=%H", "main"); got != strings.Join([]string{third.Hash.String(), second.Hash.String(), first.Hash.String()}, "\n") {
		t.Errorf("history of main:\n%s", got)
	}
}

// TestDirectUpdateWaitsForNoLock: a ref another writer holds locked (its .lock file
// exists, as git's own writers leave it while they work or when they die) is a lost
// race that names the lock file; the lock is not ours to remove, and stays.
func TestDirectUpdateWaitsForNoLock(t *testing.T) {
	repo, d, s := newDirect(t)
	c := rootCommit(t, s)
	lock := filepath.Join(repo, "refs/heads/main.lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := d.Update(context.Background(), s, c, plumbing.ZeroHash, mainRef, plumbing.ZeroHash)
	if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), lock) {
		t.Fatalf("update of a locked ref: %v, want ErrStale naming %s", err, lock)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatalf("another writer's lock was removed: %v", err)
	}
	if out, err := gittest.Output(repo, "rev-parse", "--verify", "-q", "main"); err == nil {
		t.Fatalf("main exists at %s after a refused update", out)
	}
}

// TestDirectRacesGitPush: direct updates and git CLI pushes to one branch at once,
// each retrying when it lost: every commit of both lands, in one linear history.
// The direct side takes git's own ref lock, so neither overwrites the other.
func TestDirectRacesGitPush(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", repo, work)
	gittest.Run(t, work, "commit", "-q", "--allow-empty", "-m", "root")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:main")
	d := openDirect(t, repo)
	const each = 15
	var wg sync.WaitGroup
	wg.Add(2)
	errs := make(chan error, 2)
	go func() { // the git CLI: commit, push, and on rejection rebase and push again
		defer wg.Done()
		for i := 0; i < each; i++ {
			name := filepath.Join(work, "cli-"+string(rune('a'+i)))
			if err := os.WriteFile(name, []byte("cli\n"), 0o644); err != nil {
				errs <- err
				return
			}
			gittest.Run(t, work, "add", ".")
			gittest.Run(t, work, "commit", "-qm", "cli")
			for {
				if _, err := gittest.Output(work, "push", "-q", "origin", "HEAD:main"); err == nil {
					break
				}
				gittest.Run(t, work, "pull", "-q", "--rebase", "origin", "main")
			}
		}
	}()
	lost := 0
	go func() { // direct: read the head, build on it, swap; on ErrStale read again
		defer wg.Done()
		s := memory.NewStorage()
		for i := 0; i < each; i++ {
			for {
				head := plumbing.NewHash(gittest.Run(t, repo, "rev-parse", "main"))
				tree := plumbing.NewHash(gittest.Run(t, repo, "rev-parse", "main^{tree}"))
				// The direct side needs the head's tree to build on: read it
				// through a fetch, as the catalog store does.
				if err := fetchInto(ctx, repo, s); err != nil {
					errs <- err
					return
				}
				c := commit(t, s, edit(t, s, tree, map[string]string{"direct-" + string(rune('a'+i)): "direct\n"}), head)
				err := d.Update(ctx, s, c, tree, mainRef, head)
				if err == nil {
					break
				}
				if !errors.Is(err, ErrStale) {
					errs <- err
					return
				}
				lost++
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	files := gittest.Run(t, repo, "ls-tree", "--name-only", "main")
	if n := strings.Count(files, "\n") + 1; n != 2*each {
		t.Fatalf("%d files on main, want %d:\n%s", n, 2*each, files)
	}
	if merges := gittest.Run(t, repo, "rev-list", "--merges", "--count", "main"); merges != "0" {
		t.Errorf("%s merges, want a linear history", merges)
	}
	gittest.Run(t, repo, "fsck", "--strict")
	t.Logf("the direct writer lost %d races to git push", lost)
}

// TestOpenDirectRefuses: every repository where receive-pack would do more than store
// the objects and move the ref is refused (ErrNotDirect, saying why), so its pushes
// keep going through receive-pack; a hook that appears after opening is caught at the
// next update, before anything is written.
func TestOpenDirectRefuses(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(t *testing.T) string
		why   string
	}{
		{"a hook", func(t *testing.T) string {
			r := gittest.BareRepo(t)
			gittest.Hook(t, r, "pre-receive", "exit 0\n")
			return r
		}, "hook pre-receive"},
		{"a hooks path", func(t *testing.T) string {
			r := gittest.BareRepo(t)
			gittest.Run(t, r, "config", "core.hooksPath", t.TempDir())
			return r
		}, "core.hookspath"},
		{"fsck of received objects", func(t *testing.T) string {
			r := gittest.BareRepo(t)
			gittest.Run(t, r, "config", "receive.fsckObjects", "true")
			return r
		}, "receive.fsckobjects"},
		{"transfer fsck", func(t *testing.T) string {
			r := gittest.BareRepo(t)
			gittest.Run(t, r, "config", "transfer.fsckObjects", "true")
			return r
		}, "transfer.fsckobjects"},
		{"SHA-256 objects", func(t *testing.T) string {
			r := filepath.Join(t.TempDir(), "sha256.git")
			gittest.Run(t, "", "init", "-q", "--bare", "--object-format=sha256", r)
			return r
		}, "extensions.objectformat"},
		{"a shared repository", func(t *testing.T) string {
			r := filepath.Join(t.TempDir(), "shared.git")
			gittest.Run(t, "", "init", "-q", "--bare", "--shared=group", r)
			return r
		}, "core.sharedrepository"},
		{"a reflog", func(t *testing.T) string {
			r := gittest.BareRepo(t)
			gittest.Run(t, r, "config", "core.logAllRefUpdates", "true")
			return r
		}, "core.logallrefupdates"},
		{"not bare", func(t *testing.T) string {
			r := t.TempDir()
			gittest.Run(t, "", "init", "-q", r)
			return filepath.Join(r, ".git")
		}, "not a bare repository"},
		{"no repository", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.git") }, "not a bare repository"},
		{"not on this machine", func(*testing.T) string { return "https://127.0.0.1:1/catalog.git" }, "not a repository on this machine"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := OpenDirect(ctx, c.setup(t))
			if !errors.Is(err, ErrNotDirect) || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("OpenDirect: %v, want ErrNotDirect saying %q", err, c.why)
			}
		})
	}
	t.Run("a hook added after opening", func(t *testing.T) {
		repo := gittest.BareRepo(t)
		d := openDirect(t, repo)
		gittest.Hook(t, repo, "update", "exit 1\n")
		s := memory.NewStorage()
		c := rootCommit(t, s)
		if err := d.Update(ctx, s, c, plumbing.ZeroHash, mainRef, plumbing.ZeroHash); !errors.Is(err, ErrNotDirect) {
			t.Fatalf("update with a new hook: %v, want ErrNotDirect", err)
		}
		if out, err := gittest.Output(repo, "cat-file", "-e", c.Hash.String()); err == nil {
			t.Fatalf("the commit was written before the hook was seen %s", out)
		}
	})
	t.Run("samples are not hooks", func(t *testing.T) {
		repo := gittest.BareRepo(t)
		gittest.Hook(t, repo, "pre-receive.sample", "exit 1\n")
		openDirect(t, repo)
	})
}
