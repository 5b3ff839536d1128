package gitpush

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// firstCommit pushes a one-file root commit to main and returns it.
func firstCommit(t *testing.T, remote string, s *memory.Storage) *object.Commit {
	t.Helper()
	c := rootCommit(t, s)
	if err := (Remote{URL: remote}).Update(context.Background(), s, c, plumbing.ZeroHash, plumbing.NewBranchReferenceName("main"), plumbing.ZeroHash); err != nil {
		t.Fatalf("first push: %v", err)
	}
	return c
}

// TestLocalPushReturnsOnTheReport: a push to a repository on this machine returns as
// soon as receive-pack reports the ref updated, while its post-receive hook (and
// gc --auto after it) still run; the branch has moved by then.
func TestLocalPushReturnsOnTheReport(t *testing.T) {
	remote := gittest.BareRepo(t)
	release := filepath.Join(t.TempDir(), "release")
	// The hook also stops once the test's directories are gone: the cleanup that
	// removes them may come before its next look for the release file.
	gittest.Hook(t, remote, "post-receive", "cat >/dev/null\nwhile [ ! -e '"+release+"' ] && [ -d '"+filepath.Dir(release)+"' ]; do sleep 0.01; done\n")
	t.Cleanup(func() { _ = os.WriteFile(release, nil, 0o600) })

	s := memory.NewStorage()
	c := rootCommit(t, s)
	returned := make(chan error, 1)
	go func() {
		returned <- (Remote{URL: remote}).Update(context.Background(), s, c, plumbing.ZeroHash, plumbing.NewBranchReferenceName("main"), plumbing.ZeroHash)
	}()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatalf("push: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the push waited for the post-receive hook")
	}
	if got := gittest.Run(t, remote, "rev-parse", "main"); got != c.Hash.String() {
		t.Errorf("main is at %s after the push returned, want %s", got, c.Hash)
	}
}

// TestLocalPushErrors: what the server refuses, and why, reaches the caller: a
// missing repository, a pre-receive hook's refusal (not a lost race), and a ref that
// moved after the session read it (the server's compare-and-swap: a lost race).
func TestLocalPushErrors(t *testing.T) {
	ctx := context.Background()
	main := plumbing.NewBranchReferenceName("main")

	t.Run("no such repository", func(t *testing.T) {
		_, err := Remote{URL: filepath.Join(t.TempDir(), "missing.git")}.Connect(ctx)
		if !errors.Is(err, transport.ErrRepositoryNotFound) {
			t.Errorf("connect to a missing repository: %v, want ErrRepositoryNotFound", err)
		}
	})

	t.Run("pre-receive hook declines", func(t *testing.T) {
		remote := gittest.BareRepo(t)
		gittest.Hook(t, remote, "pre-receive", "echo 'catalog is frozen' >&2\nexit 1\n")
		s := memory.NewStorage()
		c := rootCommit(t, s)
		err := Remote{URL: remote}.Update(ctx, s, c, plumbing.ZeroHash, main, plumbing.ZeroHash)
		if err == nil || errors.Is(err, ErrStale) || !strings.Contains(err.Error(), "pre-receive hook declined") {
			t.Errorf("push refused by a hook: %v, want the hook's refusal, not a lost race", err)
		}
	})

	t.Run("ref moved after connecting", func(t *testing.T) {
		remote := gittest.BareRepo(t)
		s := memory.NewStorage()
		c1 := firstCommit(t, remote, s)
		conn, err := Remote{URL: remote}.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Another writer moves main after this session read it at c1.
		c2 := commit(t, s, edit(t, s, c1.TreeHash, map[string]string{"b": "2\n"}), c1.Hash)
		if err := (Remote{URL: remote}).Update(ctx, s, c2, c1.TreeHash, main, c1.Hash); err != nil {
			t.Fatalf("other writer: %v", err)
		}
		c3 := commit(t, s, edit(t, s, c1.TreeHash, map[string]string{"c": "3\n"}), c1.Hash)
		if err := conn.Update(ctx, s, c3, c1.TreeHash, main, c1.Hash); !errors.Is(err, ErrStale) {
			t.Errorf("update from a ref that moved after connecting: %v, want ErrStale", err)
		}
		if got := gittest.Run(t, remote, "rev-parse", "main"); got != c2.Hash.String() {
			t.Errorf("main is at %s, want the other writer's %s", got, c2.Hash)
		}
	})

	t.Run("unused session", func(t *testing.T) {
		remote := gittest.BareRepo(t)
		s := memory.NewStorage()
		c1 := firstCommit(t, remote, s)
		conn, err := Remote{URL: remote}.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		conn.Close()
		c2 := commit(t, s, edit(t, s, c1.TreeHash, map[string]string{"b": "2\n"}), c1.Hash)
		if err := (Remote{URL: remote}).Update(ctx, s, c2, c1.TreeHash, main, c1.Hash); err != nil {
			t.Fatalf("push after an unused session: %v", err)
		}
	})
}
