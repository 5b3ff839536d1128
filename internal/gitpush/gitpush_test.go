package gitpush

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
)

// commit stores a commit of tree on parent (zero: a root commit).
func commit(t *testing.T, s storer.EncodedObjectStorer, tree, parent plumbing.Hash) *object.Commit {
	t.Helper()
	sig := object.Signature{Name: "t", Email: "t@localhost", When: time.Unix(1_700_000_000, 0).UTC()}
	c := &object.Commit{Author: sig, Committer: sig, Message: "m\n", TreeHash: tree}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	obj := s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	c, err = object.GetCommit(s, h)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rootCommit is a commit without parents in s holding one file, a.
func rootCommit(t *testing.T, s storer.EncodedObjectStorer) *object.Commit {
	t.Helper()
	return commit(t, s, edit(t, s, plumbing.ZeroHash, map[string]string{"a": "1\n"}), plumbing.ZeroHash)
}

func edit(t *testing.T, s storer.EncodedObjectStorer, root plumbing.Hash, files map[string]string) plumbing.Hash {
	t.Helper()
	edits := map[string]*plumbing.Hash{}
	for f, content := range files {
		h, err := gittree.WriteBlob(s, []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		edits[f] = &h
	}
	out, err := gittree.Edit(s, root, edits)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUpdateSendsOnlyTheChange pushes a one-file change in a directory of 2,000 files
// to a real git receive-pack: the pack holds the new directory as a delta against the
// one the remote has (a fraction of its size), the remote completes it, and git fsck
// finds the repository whole, with the new content at the branch.
func TestUpdateSendsOnlyTheChange(t *testing.T) {
	ctx := context.Background()
	remote := gittest.BareRepo(t)
	s := memory.NewStorage()
	files := map[string]string{"README": "hello\n"}
	for i := 0; i < 2000; i++ {
		files[fmt.Sprintf("envs/svc-%04d.tfvars", i)] = fmt.Sprintf("replicas = %d\n", i)
	}
	tree1 := edit(t, s, plumbing.ZeroHash, files)
	c1 := commit(t, s, tree1, plumbing.ZeroHash)
	main := plumbing.NewBranchReferenceName("main")
	if err := (Remote{URL: "file://" + remote}).Update(ctx, s, c1, plumbing.ZeroHash, main, plumbing.ZeroHash); err != nil {
		t.Fatalf("first push: %v", err)
	}

	tree2 := edit(t, s, tree1, map[string]string{"envs/svc-1000.tfvars": "replicas = 3\n"})
	c2 := commit(t, s, tree2, c1.Hash)
	thin, err := newObjects(s, c2, tree1, true)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := newObjects(s, c2, tree1, false)
	if err != nil {
		t.Fatal(err)
	}
	thinPack, err := packBytes(s, thin)
	if err != nil {
		t.Fatal(err)
	}
	wholePack, err := packBytes(s, whole)
	if err != nil {
		t.Fatal(err)
	}
	if len(thin) != 4 { // commit, root, envs, the blob
		t.Errorf("sends %d objects, want the commit, two trees and a blob", len(thin))
	}
	if thinPack.Len()*10 > wholePack.Len() {
		t.Errorf("thin pack is %d bytes, whole %d: the directory was not sent as a delta", thinPack.Len(), wholePack.Len())
	}

	if err := (Remote{URL: "file://" + remote}).Update(ctx, s, c2, tree1, main, c1.Hash); err != nil {
		t.Fatalf("second push: %v", err)
	}
	gittest.Run(t, remote, "fsck", "--strict", "--no-dangling")
	if got := gittest.Run(t, remote, "rev-parse", "main"); got != c2.Hash.String() {
		t.Errorf("main is at %s, want %s", got, c2.Hash)
	}
	if got := gittest.Run(t, remote, "show", "main:envs/svc-1000.tfvars"); got != "replicas = 3" {
		t.Errorf("pushed content %q", got)
	}
	if got := gittest.Run(t, remote, "show", "main:envs/svc-1001.tfvars"); got != "replicas = 1001" {
		t.Errorf("untouched content %q", got)
	}

	// Two new files of one content are one object in the pack (git receive-pack
	// may refuse a pack that holds an object twice).
	c3 := commit(t, s, edit(t, s, tree2, map[string]string{"new/a": "same\n", "new/b": "same\n"}), c2.Hash)
	objs, err := newObjects(s, c3, tree2, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 4 { // commit, root, new/, one blob
		t.Errorf("sends %d objects for two files of one content, want 4", len(objs))
	}
	if err := (Remote{URL: "file://" + remote}).Update(ctx, s, c3, tree2, main, c2.Hash); err != nil {
		t.Fatalf("third push: %v", err)
	}
	gittest.Run(t, remote, "fsck", "--strict", "--no-dangling")

	// The compare half of compare-and-swap: a push from a stale old value fails.
	c4 := commit(t, s, edit(t, s, tree2, map[string]string{"README": "bye\n"}), c2.Hash)
	err = (Remote{URL: "file://" + remote}).Update(ctx, s, c4, tree2, main, c2.Hash)
	if !errors.Is(err, ErrStale) {
		t.Fatalf("push over a moved branch: %v, want ErrStale", err)
	}
	if got := gittest.Run(t, remote, "rev-parse", "main"); got != c3.Hash.String() {
		t.Errorf("a stale push moved main to %s", got)
	}
}

// TestSpanDeltaRebuildsTheTarget applies the delta with go-git's patcher, which reads
// the format as Git does, across sizes around the copy and insert limits.
func TestSpanDeltaRebuildsTheTarget(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*maxCopy/16+5)
	cases := map[string][2][]byte{
		"equal":           {big, big},
		"middle changed":  {big, append(append(append([]byte{}, big[:70000]...), "changed"...), big[70003:]...)},
		"appended":        {big[:1000], big[:1300]},
		"prepended":       {big[500:900], big[300:900]},
		"emptied":         {big[:200], nil},
		"long insert":     {[]byte("ab"), []byte("a" + strings.Repeat("x", 1000) + "b")},
		"exact copy size": {big[:maxCopy], append(append([]byte{}, big[:maxCopy]...), 'z')},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			checkDelta(t, c[0], c[1])
		})
	}
}

func checkDelta(t *testing.T, base, target []byte) {
	t.Helper()
	got, err := packfile.PatchDelta(base, spanDelta(base, target))
	if err != nil {
		t.Fatalf("patch: %v", err)
	}
	if !bytes.Equal(got, target) {
		t.Fatalf("delta rebuilt %d bytes, want %d", len(got), len(target))
	}
}

func FuzzSpanDelta(f *testing.F) {
	f.Add([]byte("100644 a\x00"), []byte("100644 b\x00"))
	f.Add([]byte("x"), []byte{})
	f.Fuzz(func(t *testing.T, base, target []byte) {
		if len(base) == 0 {
			t.Skip("never a base: writeObject sends the object whole")
		}
		checkDelta(t, base, target)
	})
}
