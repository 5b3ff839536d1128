package gittree

import (
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// TestLooseObjectsAreGits writes a blob and a tree with Loose, twice (the second a
// no-op on the read-only file), and has the git CLI read them back and fsck them.
func TestLooseObjectsAreGits(t *testing.T) {
	dir := gittest.BareRepo(t)
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := NewLoose(repo.Storer, filepath.Join(dir, "objects"))
	var root plumbing.Hash
	for i := 0; i < 2; i++ {
		blob, err := WriteBlob(s, []byte("replicas = 3\n"))
		if err != nil {
			t.Fatal(err)
		}
		if root, err = Edit(s, plumbing.ZeroHash, map[string]*plumbing.Hash{"envs/a.tfvars": &blob}); err != nil {
			t.Fatal(err)
		}
	}
	if got := gittest.Run(t, dir, "cat-file", "-t", root.String()); got != "tree" {
		t.Errorf("git reads the root as %q", got)
	}
	if got := gittest.Run(t, dir, "show", root.String()+":envs/a.tfvars"); got != "replicas = 3" {
		t.Errorf("git reads the file as %q", got)
	}
	gittest.Run(t, dir, "fsck", "--strict", root.String())
	// go-git reads them too, through the store Loose wraps.
	if _, err := repo.TreeObject(root); err != nil {
		t.Errorf("go-git: %v", err)
	}
}
