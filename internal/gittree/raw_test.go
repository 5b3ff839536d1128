package gittree

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TestDiffBlobsAgreesWithGoGit holds the raw tree diff to go-git's tree diff (renames
// not detected) over random trees whose names sort differently as files and as
// directories ("a-b" < "a/" < "a0"), with files that become directories.
func TestDiffBlobsAgreesWithGoGit(t *testing.T) {
	s := memory.NewStorage()
	rng := rand.New(rand.NewSource(3))
	names := []string{"a", "a-b", "a.b", "a0", "a/x", "a/y/z", "b", "b/c", "b.c", "envs/svc-1", "envs/svc-2", "envs-x"}
	build := func() plumbing.Hash {
		t.Helper()
		edits := map[string]*plumbing.Hash{}
		taken := map[string]bool{}
		for _, n := range names {
			// A path cannot be both a file and a directory's prefix.
			if rng.Intn(2) == 0 || conflicts(n, taken) {
				continue
			}
			h, err := WriteBlob(s, []byte(fmt.Sprint(rng.Intn(3))))
			if err != nil {
				t.Fatal(err)
			}
			edits[n], taken[n] = &h, true
		}
		root, err := Edit(s, plumbing.ZeroHash, edits)
		if err != nil {
			t.Fatal(err)
		}
		return root
	}
	tree := func(h plumbing.Hash) *object.Tree {
		tr, err := Tree(s, h)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	for round := 0; round < 500; round++ {
		from, to := build(), build()
		changes, err := object.DiffTreeWithOptions(context.Background(), tree(from), tree(to), nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, c := range changes {
			name := c.From.Name
			if name == "" {
				name = c.To.Name
			}
			want = append(want, fmt.Sprintf("%s %s>%s", name, short(c.From.TreeEntry.Hash), short(c.To.TreeEntry.Hash)))
		}
		sort.Strings(want)
		got, err := DiffBlobs(s, from, to)
		if err != nil {
			t.Fatal(err)
		}
		var gotS []string
		for _, c := range got {
			gotS = append(gotS, fmt.Sprintf("%s %s>%s", c.Path, short(c.From), short(c.To)))
		}
		if !gitOrdered(got) {
			t.Errorf("round %d: not in Git's path order: %v", round, gotS)
		}
		sort.Strings(gotS)
		if fmt.Sprint(gotS) != fmt.Sprint(want) {
			t.Fatalf("round %d:\n got %v\nwant %v", round, gotS, want)
		}
	}
}

func short(h plumbing.Hash) string {
	if h.IsZero() {
		return "-"
	}
	return h.String()[:7]
}

// conflicts reports whether a path is a prefix directory of a taken one, or has one
// as its directory.
func conflicts(p string, taken map[string]bool) bool {
	for q := range taken {
		if len(q) > len(p) && q[:len(p)+1] == p+"/" || len(p) > len(q) && p[:len(q)+1] == q+"/" {
			return true
		}
	}
	return false
}

// gitOrdered reports whether changes are in Git's index order: by path bytes.
func gitOrdered(cs []BlobChange) bool {
	return sort.SliceIsSorted(cs, func(i, j int) bool { return cs[i].Path < cs[j].Path })
}

// FuzzDiffRaw feeds tree bytes as any pusher could write them: the walk never
// panics, reports only names that are in the input, and nothing for equal trees.
func FuzzDiffRaw(f *testing.F) {
	entry := func(mode, name string, b byte) string {
		return mode + " " + name + "\x00" + string(make([]byte, 19)) + string(b)
	}
	f.Add([]byte(entry("100644", "a", 1)+entry("40000", "b", 2)), []byte(entry("100644", "a", 3)))
	f.Add([]byte(entry("40000", "a", 1)), []byte(entry("100644", "a", 1)+entry("100644", "a-b", 1)))
	f.Add([]byte("100644 x"), []byte{})
	f.Fuzz(func(t *testing.T, now, before []byte) {
		seen := map[string]bool{}
		for _, raw := range [][]byte{now, before} {
			for len(raw) > 0 {
				e, rest, err := NextEntry(raw)
				if err != nil {
					break
				}
				seen[string(e.Name)] = true
				raw = rest
			}
		}
		_ = DiffRaw(now, before, func(n, b *Entry) error {
			for _, e := range []*Entry{n, b} {
				if e != nil && !seen[string(e.Name)] {
					t.Fatalf("reported %q, which is in neither tree", e.Name)
				}
			}
			return nil
		})
		if err := DiffRaw(now, now, func(n, b *Entry) error {
			t.Fatalf("equal trees differ at %v %v", n, b)
			return nil
		}); err != nil && len(now) == 0 {
			t.Fatal(err)
		}
	})
}
