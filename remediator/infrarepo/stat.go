package infrarepo

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/utils/binary"
	"github.com/go-git/go-git/v5/utils/diff"
	dmp "github.com/sergi/go-diff/diffmatchpatch"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
)

// FileStat is the size of a commit's change to one file.
type FileStat struct {
	File                 string
	Additions, Deletions int
}

// statTrees counts the lines added and deleted per file between two trees, as
// go-git's Patch.Stats counts them (binary files and unchanged content left out),
// reading only the directories that differ: go-git decodes every entry of both sides
// of a changed directory, which for a one-file change in a directory of 10,000 files
// was a fifth of a proposal's time. Only a change that both deletes and adds files
// can hold a rename, and go-git's rename detection names it: that rare change goes
// through go-git.
func statTrees(s storer.EncodedObjectStorer, from, to plumbing.Hash) ([]FileStat, error) {
	changes, err := gittree.DiffBlobs(s, from, to)
	if err != nil {
		return nil, err
	}
	if mayRename(changes) {
		return statWithRenames(s, from, to)
	}
	out := make([]FileStat, 0, len(changes))
	for _, c := range changes {
		before, beforeBinary, err := text(s, c.From)
		if err != nil {
			return nil, err
		}
		after, afterBinary, err := text(s, c.To)
		if err != nil {
			return nil, err
		}
		if beforeBinary || afterBinary {
			continue
		}
		diffs := diff.Do(before, after)
		if len(diffs) == 0 {
			continue // an empty file added or deleted
		}
		st := FileStat{File: c.Path}
		for _, d := range diffs {
			switch d.Type {
			case dmp.DiffInsert:
				st.Additions += lines(d.Text)
			case dmp.DiffDelete:
				st.Deletions += lines(d.Text)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// lines counts a chunk's lines, a last one without its newline included.
func lines(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && s[len(s)-1] != '\n' {
		n++
	}
	return n
}

// text is a blob's content ("" for the zero hash) and whether it is binary.
func text(s storer.EncodedObjectStorer, h plumbing.Hash) (string, bool, error) {
	if h.IsZero() {
		return "", false, nil
	}
	data, err := gittree.Contents(s, plumbing.BlobObject, h)
	if err != nil {
		return "", false, fmt.Errorf("diff: %w", err)
	}
	bin, err := binary.IsBinary(bytes.NewReader(data))
	if err != nil {
		return "", false, err
	}
	return string(data), bin, nil
}

// mayRename reports whether a change deletes a file and adds another.
func mayRename(changes []gittree.BlobChange) bool {
	var added, deleted bool
	for _, c := range changes {
		added = added || c.From.IsZero()
		deleted = deleted || c.To.IsZero()
	}
	return added && deleted
}

// statWithRenames is go-git's stat of two trees, renames detected.
func statWithRenames(s storer.EncodedObjectStorer, from, to plumbing.Hash) ([]FileStat, error) {
	a, err := gittree.Tree(s, from)
	if err != nil {
		return nil, err
	}
	b, err := gittree.Tree(s, to)
	if err != nil {
		return nil, err
	}
	patch, err := a.Patch(b)
	if err != nil {
		return nil, err
	}
	stats := patch.Stats()
	out := make([]FileStat, 0, len(stats))
	for _, st := range stats {
		out = append(out, FileStat{File: st.Name, Additions: st.Addition, Deletions: st.Deletion})
	}
	return out, nil
}
