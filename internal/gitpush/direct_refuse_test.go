package gitpush

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
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
		{"HEAD, which names main, kept in a reflog", func(t *testing.T, repo string) plumbing.ReferenceName {
			gittest.WriteFile(t, filepath.Join(repo, "logs", "HEAD"), "")
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
			repo, d, s := newDirect(t)
			first := rootCommit(t, s)
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
		repo, d, s := newDirect(t)
		parent := rootCommit(t, s)
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

// TestOpenDirectRefusesWhatMovesReceivePackElsewhere: an environment that sends git's
// ref updates elsewhere (a namespace, another objects or common directory, a
// quarantine), or a URL naming a linked worktree's git directory (whose refs and
// objects are in the common directory), is ErrNotDirect: Direct would write where
// the fetches of the same process do not read.
func TestOpenDirectRefusesWhatMovesReceivePackElsewhere(t *testing.T) {
	ctx := context.Background()
	for _, env := range []string{"GIT_NAMESPACE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_QUARANTINE_PATH"} {
		t.Run(env, func(t *testing.T) {
			repo := gittest.BareRepo(t)
			t.Setenv(env, filepath.Join(t.TempDir(), "elsewhere"))
			if _, err := OpenDirect(ctx, repo); !errors.Is(err, ErrNotDirect) || !strings.Contains(err.Error(), env) {
				t.Fatalf("OpenDirect with %s set: %v, want ErrNotDirect naming it", env, err)
			}
		})
	}
	t.Run("a linked worktree's git directory", func(t *testing.T) {
		repo, d, s := newDirect(t)
		first := rootCommit(t, s)
		if err := d.Update(ctx, s, first, plumbing.ZeroHash, mainRef, plumbing.ZeroHash); err != nil {
			t.Fatal(err)
		}
		gittest.Run(t, repo, "worktree", "add", "-q", "--detach", filepath.Join(t.TempDir(), "wt"), "main")
		if _, err := OpenDirect(ctx, filepath.Join(repo, "worktrees", "wt")); !errors.Is(err, ErrNotDirect) {
			t.Fatalf("OpenDirect of a worktree's git directory: %v, want ErrNotDirect", err)
		}
	})
}

// TestDirectRefusesRefNamesGitRefuses: a ref name git check-ref-format refuses is
// ErrNotDirect (receive-pack gives git's answer), never a file written at a path
// the name cleans to.
func TestDirectRefusesRefNamesGitRefuses(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"a/./b", "a//b", ".a", "a/.b", "a.lock/b", "a.", "a/", "a@{b", "a\x01b", "a\x7fb", "a b", "a..b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a~b", "a^b"} {
		t.Run(strings.ToValidUTF8(name, "?"), func(t *testing.T) {
			ref := plumbing.NewBranchReferenceName(name)
			if _, err := gittest.Output("", "check-ref-format", ref.String()); err == nil {
				t.Fatalf("git accepts %q: not a case for this test", ref)
			}
			repo, d, s := newDirect(t)
			c := rootCommit(t, s)
			if err := d.Update(ctx, s, c, plumbing.ZeroHash, ref, plumbing.ZeroHash); !errors.Is(err, ErrNotDirect) {
				t.Fatalf("update of %q: %v, want ErrNotDirect", ref, err)
			}
			if got := gittest.Run(t, repo, "for-each-ref"); got != "" {
				t.Fatalf("refs after the update of %q:\n%s", ref, got)
			}
		})
	}
	t.Run("a/b-c_d.e is fine", func(t *testing.T) {
		_, d, s := newDirect(t)
		c := rootCommit(t, s)
		if err := d.Update(ctx, s, c, plumbing.ZeroHash, plumbing.NewBranchReferenceName("a/b-c_d.e"), plumbing.ZeroHash); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDirectLeavesSymlinkRefsToGit: a ref that is a symbolic link (git's older
// spelling of a symbolic ref, core.preferSymlinkRefs) is ErrNotDirect: git would move
// the ref it points to, Direct would have replaced the link by a file.
func TestDirectLeavesSymlinkRefsToGit(t *testing.T) {
	ctx := context.Background()
	repo, d, s := newDirect(t)
	first := rootCommit(t, s)
	other := plumbing.NewBranchReferenceName("other")
	if err := d.Update(ctx, s, first, plumbing.ZeroHash, other, plumbing.ZeroHash); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(repo, "refs", "heads", "main")
	if err := os.Symlink("other", link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	next := commit(t, s, edit(t, s, first.TreeHash, map[string]string{"b": "2\n"}), first.Hash)
	if err := d.Update(ctx, s, next, first.TreeHash, mainRef, first.Hash); !errors.Is(err, ErrNotDirect) {
		t.Fatalf("update through a symbolic link: %v, want ErrNotDirect", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symbolic link is gone: %v", err)
	}
}

// TestDirectSeesConfigAddedAfterOpening: a setting that needs receive-pack, added to
// the repository's config after OpenDirect (fsck of received objects, a hooks path),
// is seen at the next update, before anything is written.
func TestDirectSeesConfigAddedAfterOpening(t *testing.T) {
	ctx := context.Background()
	for _, kv := range [][2]string{{"receive.fsckObjects", "true"}, {"core.hooksPath", "/nonexistent"}} {
		t.Run(kv[0], func(t *testing.T) {
			repo := gittest.BareRepo(t)
			d := openDirect(t, repo)
			gittest.Run(t, repo, "config", kv[0], kv[1])
			s := memory.NewStorage()
			c := rootCommit(t, s)
			if err := d.Update(ctx, s, c, plumbing.ZeroHash, mainRef, plumbing.ZeroHash); !errors.Is(err, ErrNotDirect) ||
				!strings.Contains(err.Error(), strings.ToLower(kv[0])) {
				t.Fatalf("update after %s was set: %v, want ErrNotDirect naming it", kv[0], err)
			}
			if _, err := gittest.Output(repo, "cat-file", "-e", c.Hash.String()); err == nil {
				t.Fatal("the commit was written before the setting was seen")
			}
		})
	}
}

// TestDirectFreshensObjectsItReuses: an object the new commit needs that the
// repository already holds loose, unreachable and old (left by a lost round weeks
// ago), has its time renewed, as git's object writer does, so that a git gc pruning
// old unreachable objects at the same time keeps it for the ref about to name it.
func TestDirectFreshensObjectsItReuses(t *testing.T) {
	ctx := context.Background()
	repo, d, s := newDirect(t)
	c := commit(t, s, edit(t, s, plumbing.ZeroHash, map[string]string{"a": "old content\n"}), plumbing.ZeroHash)
	src := filepath.Join(t.TempDir(), "a")
	gittest.WriteFile(t, src, "old content\n")
	blob := gittest.Run(t, repo, "hash-object", "-w", src)
	loose := filepath.Join(repo, "objects", blob[:2], blob[2:])
	weeksAgo := time.Now().Add(-30 * 24 * time.Hour)
	if err := os.Chtimes(loose, weeksAgo, weeksAgo); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(ctx, s, c, plumbing.ZeroHash, mainRef, plumbing.ZeroHash); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(loose)
	if err != nil {
		t.Fatal(err)
	}
	if fi.ModTime().Before(time.Now().Add(-time.Hour)) {
		t.Fatalf("the reused object %s still dates from %s: a concurrent prune may delete it", blob, fi.ModTime())
	}
}

// TestDirectRacesPackRefs: direct updates while git pack-refs --all --prune packs
// and prunes the branch over and over: every update lands (one that met
// pack-refs' lock retries), main ends at the last one, and no update is undone by
// a packed value older than the loose one.
func TestDirectRacesPackRefs(t *testing.T) {
	ctx := context.Background()
	repo, d, s := newDirect(t)
	done := make(chan struct{})
	packed := make(chan int)
	go func() {
		n := 0
		defer func() { packed <- n }()
		for {
			select {
			case <-done:
				return
			default:
			}
			// A pack-refs that met our lock fails; that is its race to lose.
			if _, err := gittest.Output(repo, "pack-refs", "--all", "--prune"); err == nil {
				n++
			}
		}
	}()
	head, tree := plumbing.ZeroHash, plumbing.ZeroHash
	var want []string
	for i := 0; i < 25; i++ {
		c := commit(t, s, edit(t, s, tree, map[string]string{"f" + string(rune('a'+i)): "x\n"}), head)
		for {
			err := d.Update(ctx, s, c, tree, mainRef, head)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), ".lock") {
				close(done)
				<-packed
				t.Fatalf("update %d: %v, want success or a lost lock", i, err)
			}
		}
		head, tree = c.Hash, c.TreeHash
		want = append([]string{c.Hash.String()}, want...)
	}
	close(done)
	t.Logf("pack-refs ran %d times", <-packed)
	if got := gittest.Run(t, repo, "log", "--format=%H", "main"); got != strings.Join(want, "\n") {
		t.Fatalf("history of main:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	gittest.Run(t, repo, "fsck", "--strict", "--no-dangling")
}

// TestDirectRunsGCInAShortProcess: a process that makes a single direct update (a
// Terraform apply of one change) still runs git gc --auto, as receive-pack does
// after every push; otherwise loose objects pile up across applies and are never
// packed.
func TestDirectRunsGCInAShortProcess(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	// gc --auto packs when objects/17 holds more than gc.auto/256 objects: two
	// there, and a threshold of one, make the next gc --auto pack.
	gittest.Run(t, repo, "config", "gc.auto", "1")
	gittest.Run(t, repo, "config", "gc.autoDetach", "false")
	s := memory.NewStorage()
	loose := gittree.NewLoose(nil, filepath.Join(repo, "objects"))
	for i, found := 0, 0; found < 2; i++ {
		o := s.NewEncodedObject()
		o.SetType(plumbing.BlobObject)
		w, _ := o.Writer()
		_, _ = w.Write([]byte(strconv.Itoa(i)))
		_ = w.Close()
		if strings.HasPrefix(o.Hash().String(), "17") {
			if _, err := loose.SetEncodedObject(o); err != nil {
				t.Fatal(err)
			}
			found++
		}
	}
	d := openDirect(t, repo)
	c := rootCommit(t, s)
	if err := d.Update(ctx, s, c, plumbing.ZeroHash, mainRef, plumbing.ZeroHash); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		packs, _ := filepath.Glob(filepath.Join(repo, "objects", "pack", "*.pack"))
		_, pid := os.Stat(filepath.Join(repo, "gc.pid"))
		if len(packs) > 0 && errors.Is(pid, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no git gc --auto ran after the update: loose objects are never packed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDirectChecksTheParentTree: a parentTree that is not old's tree (a caller's
// slip) would leave out objects the commit needs; receive-pack's connectivity check
// would refuse such a push, so Direct refuses it too (ErrNotDirect), before the
// ref moves.
func TestDirectChecksTheParentTree(t *testing.T) {
	ctx := context.Background()
	repo, d, s := newDirect(t)
	first := rootCommit(t, s)
	if err := d.Update(ctx, s, first, plumbing.ZeroHash, mainRef, plumbing.ZeroHash); err != nil {
		t.Fatal(err)
	}
	next := commit(t, s, edit(t, s, first.TreeHash, map[string]string{"b": "2\n"}), first.Hash)
	if err := d.Update(ctx, s, next, next.TreeHash, mainRef, first.Hash); !errors.Is(err, ErrNotDirect) {
		t.Fatalf("update with the wrong parent tree: %v, want ErrNotDirect", err)
	}
	if got := gittest.Run(t, repo, "rev-parse", "main"); got != first.Hash.String() {
		gittest.Run(t, repo, "fsck", "--strict")
		t.Fatalf("main moved to %s", got)
	}
}
