package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// The walk reads a root tree per commit and the artifact directory at each merge: on
// a long history that is most of the audit. Git's tree format is simple ("<mode>
// <name>\0<20-byte hash>" per entry, sorted by name), so these trees are read raw,
// without building an object per entry.

// dirEntry is a tree entry the audit looks at: its object and whether it is a tree.
type dirEntry struct {
	hash plumbing.Hash
	dir  bool
}

// readRaw returns a tree object's content.
func readRaw(repo *git.Repository, h plumbing.Hash) ([]byte, error) {
	return objectContents(repo, plumbing.TreeObject, h)
}

// objectContents returns the content of an object of a type: a raw tree, a blob.
func objectContents(repo *git.Repository, typ plumbing.ObjectType, h plumbing.Hash) ([]byte, error) {
	obj, err := repo.Storer.EncodedObject(typ, h)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", typ, h, err)
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

var errBadTree = errors.New("malformed tree object")

// nextEntry splits the first entry off a raw tree.
func nextEntry(raw []byte) (mode, name []byte, hash plumbing.Hash, rest []byte, err error) {
	sp := bytes.IndexByte(raw, ' ')
	if sp <= 0 {
		return nil, nil, hash, nil, errBadTree
	}
	nul := bytes.IndexByte(raw[sp+1:], 0)
	if nul < 0 || len(raw) < sp+1+nul+1+20 {
		return nil, nil, hash, nil, errBadTree
	}
	mode, name = raw[:sp], raw[sp+1:sp+1+nul]
	end := sp + 1 + nul + 1
	copy(hash[:], raw[end:end+20])
	return mode, name, hash, raw[end+20:], nil
}

// findEntry looks one name up in a raw tree.
func findEntry(raw []byte, name string) (*dirEntry, error) {
	for len(raw) > 0 {
		mode, n, h, rest, err := nextEntry(raw)
		if err != nil {
			return nil, err
		}
		if string(n) == name {
			return &dirEntry{hash: h, dir: string(mode) == "40000"}, nil
		}
		raw = rest
	}
	return nil, nil
}

// diffEntries lists the names whose entry differs between two raw trees (added,
// removed or changed), walking both in their sorted order at once. Were an entry out
// of order, both sides of it would be listed: a difference is never missed.
func diffEntries(now, before []byte) ([]string, error) {
	var out []string
	var nName, bName []byte
	var nHash, bHash plumbing.Hash
	var err error
	advance := func(raw *[]byte, name *[]byte, hash *plumbing.Hash) error {
		if len(*raw) == 0 {
			*name = nil
			return nil
		}
		_, n, h, rest, err := nextEntry(*raw)
		if err != nil {
			return err
		}
		*name, *hash, *raw = n, h, rest
		return nil
	}
	if err = advance(&now, &nName, &nHash); err != nil {
		return nil, err
	}
	if err = advance(&before, &bName, &bHash); err != nil {
		return nil, err
	}
	for nName != nil || bName != nil {
		switch c := compareNames(nName, bName); {
		case c == 0:
			if nHash != bHash {
				out = append(out, string(nName))
			}
			if err = advance(&now, &nName, &nHash); err == nil {
				err = advance(&before, &bName, &bHash)
			}
		case c < 0:
			out = append(out, string(nName))
			err = advance(&now, &nName, &nHash)
		default:
			out = append(out, string(bName))
			err = advance(&before, &bName, &bHash)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// compareNames orders two entry names, nil (the end of a tree) after every name.
func compareNames(a, b []byte) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return bytes.Compare(a, b)
}
