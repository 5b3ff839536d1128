package infrarepo

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
)

func mustDiff(t *testing.T, s storer.EncodedObjectStorer, from, to plumbing.Hash) []gittree.BlobChange {
	t.Helper()
	c, err := gittree.DiffBlobs(s, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStatCountsAsGoGitDoes holds the proposal's diff stat (read from the changed
// directories only) to go-git's Patch.Stats over random edits: modified, added and
// deleted files, binary content, empty files, a file that becomes a directory, and
// names that sort differently as files and as directories.
func TestStatCountsAsGoGitDoes(t *testing.T) {
	s := memory.NewStorage()
	rng := rand.New(rand.NewSource(7))
	names := []string{"a", "a-b", "a.b", "a0", "b", "envs/svc-1.tfvars", "envs/svc-2.tfvars", "envs/x/y", "envs-x", "z/z/z"}
	content := func() []byte {
		switch rng.Intn(6) {
		case 0:
			return nil // empty
		case 1:
			return []byte{0, 1, 2, byte(rng.Intn(256))} // binary
		case 2:
			return []byte(fmt.Sprintf("no newline %d", rng.Intn(3)))
		}
		out := ""
		for i := 0; i < 1+rng.Intn(6); i++ {
			out += fmt.Sprintf("line %d\n", rng.Intn(4))
		}
		return []byte(out)
	}
	edit := func(root plumbing.Hash, files map[string][]byte, drop []string) plumbing.Hash {
		t.Helper()
		edits := map[string]*plumbing.Hash{}
		for _, d := range drop {
			edits[d] = nil
		}
		for f, c := range files {
			h, err := gittree.WriteBlob(s, c)
			if err != nil {
				t.Fatal(err)
			}
			edits[f] = &h
		}
		out, err := gittree.Edit(s, root, edits)
		if err != nil {
			t.Fatalf("edit: %v", err)
		}
		return out
	}
	tree := func(h plumbing.Hash) *object.Tree {
		tr, err := gittree.Tree(s, h)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	direct := 0 // rounds read without go-git: no file both deleted and added
	for round := 0; round < 300; round++ {
		before := map[string][]byte{}
		for _, n := range names {
			if rng.Intn(3) > 0 {
				before[n] = content()
			}
		}
		from := edit(plumbing.ZeroHash, before, nil)
		after := map[string][]byte{}
		var drop []string
		for n := range before {
			switch rng.Intn(6) {
			case 0:
				drop = append(drop, n)
			case 1:
				after[n] = content()
			}
		}
		for _, n := range names {
			if _, had := before[n]; !had && rng.Intn(4) == 0 {
				after[n] = content()
			}
		}
		to := edit(from, after, drop)
		if rng.Intn(5) == 0 { // a file becomes a directory of the same name
			to = edit(edit(to, nil, []string{"a"}), map[string][]byte{"a/new": []byte("x\n")}, nil)
		}
		patch, err := tree(from).Patch(tree(to))
		if err != nil {
			t.Fatal(err)
		}
		var want []FileStat
		for _, st := range patch.Stats() {
			want = append(want, FileStat{File: st.Name, Additions: st.Addition, Deletions: st.Deletion})
		}
		got, err := statTrees(s, from, to)
		if err != nil {
			t.Fatal(err)
		}
		renames := mayRename(mustDiff(t, s, from, to))
		if !renames {
			direct++
		}
		if !renames && !sort.SliceIsSorted(got, func(i, j int) bool { return got[i].File < got[j].File }) {
			t.Errorf("round %d: stat not in path order: %v", round, got)
		}
		sort.Slice(want, func(i, j int) bool { return want[i].File < want[j].File })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d:\n got %v\nwant %v", round, got, want)
		}
	}
	if direct < 50 {
		t.Fatalf("only %d of 300 rounds took the direct path", direct)
	}
}
