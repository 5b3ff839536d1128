package gitpush

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// TestDirectLeavesToReceivePackWhatItWouldRefuseOrRecord: an update git receive-pack
// would refuse (the branch is checked out in a linked worktree, a hidden ref, a
// branch whose name clashes with a packed one, a commit whose parent the repository
// lacks), or would record somewhere Direct does not write (the branch's reflog), is
// ErrNotDirect and changes nothing, so the caller's receive-pack push gives git's own
// answer.
func TestDirectLeavesToReceivePackWhatItWouldRefuseOrRecord(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// setup prepares repo, whose main holds first, and returns the ref to update.
		setup func(t *testing.T, repo string) plumbing.ReferenceName
	}{
		{"main checked out in a linked worktree", func(t *testing.T, repo string) plumbing.ReferenceName {
			gittest.Run(t, repo, "worktree", "add", "-q", filepath.Join(t.TempDir(), "wt"), "main")
			return mainRef
		}},
		{"main kept in a reflog", func(t *testing.T, repo string) plumbing.ReferenceName {
			gittest.WriteFile(t, filepath.Join(repo, "logs", "refs", "heads", "main"), "")
			return mainRef
		}},
		{"a/b where a is a packed branch", func(t *testing.T, repo string) plumbing.ReferenceName {
			gittest.Run(t, repo, "branch", "a", "main")
			gittest.Run(t, repo, "pack-refs", "--all", "--prune")
			return plumbing.NewBranchReferenceName("a/b")
		}},
		{"a where a/b is a packed branch", func(t *testing.T, repo string) plumbing.ReferenceName {
			gittest.Run(t, repo, "branch", "a/b", "main")
			gittest.Run(t, repo, "pack-refs", "--all", "--prune")
			return plumbing.NewBranchReferenceName("a")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo := gittest.BareRepo(t)
			d := openDirect(t, repo)
			s := memory.NewStorage()
			first := commit(t, s, edit(t, s, plumbing.ZeroHash, map[string]string{"a": "1\n"}), plumbing.ZeroHash)
			if err := d.Update(ctx, s, first, plumbing.ZeroHash, mainRef, plumbing.ZeroHash); err != nil {
				t.Fatal(err)
			}
			ref := c.setup(t, repo)
			old := plumbing.ZeroHash
			if ref == mainRef {
				old = first.Hash
			}
			next := commit(t, s, edit(t, s, first.TreeHash, map[string]string{"b": "2\n"}), first.Hash)
			err := d.Update(ctx, s, next, first.TreeHash, ref, old)
			if !errors.Is(err, ErrNotDirect) {
				t.Fatalf("update of %s: %v, want ErrNotDirect", ref, err)
			}
			if out, err := gittest.Output(repo, "rev-parse", "--verify", "-q", ref.String()); err == nil && strings.TrimSpace(out) == next.Hash.String() {
				t.Fatalf("%s moved to %s", ref, next.Hash)
			}
			gittest.Run(t, repo, "fsck", "--strict", "--no-dangling")
		})
	}
	t.Run("a hidden ref", func(t *testing.T) {
		repo := gittest.BareRepo(t)
		gittest.Run(t, repo, "config", "transfer.hideRefs", "refs/heads/main")
		if _, err := OpenDirect(ctx, repo); !errors.Is(err, ErrNotDirect) || !strings.Contains(err.Error(), "transfer.hiderefs") {
			t.Fatalf("OpenDirect: %v, want ErrNotDirect saying transfer.hiderefs", err)
		}
	})
	t.Run("a new branch on a parent the repository lacks", func(t *testing.T) {
		repo := gittest.BareRepo(t)
		d := openDirect(t, repo)
		s := memory.NewStorage()
		parent := commit(t, s, edit(t, s, plumbing.ZeroHash, map[string]string{"a": "1\n"}), plumbing.ZeroHash)
		child := commit(t, s, edit(t, s, parent.TreeHash, map[string]string{"b": "2\n"}), parent.Hash)
		err := d.Update(ctx, s, child, plumbing.ZeroHash, mainRef, plumbing.ZeroHash)
		if !errors.Is(err, ErrNotDirect) {
			t.Fatalf("creating main on a missing parent: %v, want ErrNotDirect", err)
		}
		if _, err := os.Stat(filepath.Join(repo, "refs", "heads", "main")); err == nil {
			gittest.Run(t, repo, "fsck", "--strict")
			t.Fatal("main was created on a commit whose parent is missing")
		}
	})
}
