package gittree

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Readers of large trees (an audit walking every merge, a diff of a directory of
// 10,000 files) read them raw: Git's tree format is simple ("<mode> <name>\0<20-byte
// hash>" per entry, in Git's order), and go-git's decoder builds an object per entry,
// which costs more than the comparison it serves.

// ErrBadTree is a tree object that does not parse.
var ErrBadTree = errors.New("malformed tree object")

// Entry is one entry of a raw tree. Mode and Name point into the tree's bytes.
type Entry struct {
	Mode []byte
	Name []byte
	Hash plumbing.Hash
}

// IsDir reports whether the entry is a tree.
func (e Entry) IsDir() bool { return string(e.Mode) == "40000" }

// IsGitlink reports whether the entry is a submodule's commit.
func (e Entry) IsGitlink() bool { return string(e.Mode) == "160000" }

// ReadRaw returns a tree object's content; the zero hash reads as the empty tree
// (nil), as in Tree.
func ReadRaw(s storer.EncodedObjectStorer, h plumbing.Hash) ([]byte, error) {
	if h.IsZero() {
		return nil, nil
	}
	return Contents(s, plumbing.TreeObject, h)
}

// Contents returns the content of an object of a type: a raw tree, a blob.
func Contents(s storer.EncodedObjectStorer, typ plumbing.ObjectType, h plumbing.Hash) ([]byte, error) {
	obj, err := s.EncodedObject(typ, h)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", typ, h, err)
	}
	data, err := ReadObject(obj)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", typ, h, err)
	}
	return data, nil
}

// ReadObject returns an object's content, read to its end (where zlib checks its
// checksum) into one buffer: room for its size and the read that finds the end, so
// that a large tree is not copied into a buffer twice its size on the way.
func ReadObject(obj plumbing.EncodedObject) ([]byte, error) {
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := bytes.NewBuffer(make([]byte, 0, obj.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// NextEntry splits the first entry off a raw tree.
func NextEntry(raw []byte) (Entry, []byte, error) {
	sp := bytes.IndexByte(raw, ' ')
	if sp <= 0 {
		return Entry{}, nil, ErrBadTree
	}
	nul := bytes.IndexByte(raw[sp+1:], 0)
	if nul < 0 || len(raw) < sp+1+nul+1+20 {
		return Entry{}, nil, ErrBadTree
	}
	e := Entry{Mode: raw[:sp], Name: raw[sp+1 : sp+1+nul]}
	end := sp + 1 + nul + 1
	copy(e.Hash[:], raw[end:end+20])
	return e, raw[end+20:], nil
}

// Find looks one name up in a raw tree; found is false when no entry has it.
func Find(raw []byte, name string) (e Entry, found bool, err error) {
	for len(raw) > 0 {
		e, raw, err = NextEntry(raw)
		if err != nil {
			return Entry{}, false, err
		}
		if string(e.Name) == name {
			return e, true, nil
		}
	}
	return Entry{}, false, nil
}

// DiffRaw walks two raw trees at once, in Git's order, and calls fn for every entry
// that differs (in hash or mode) between them, with the entry on each side or nil
// where it is absent. A file and a directory of one name are different entries: fn
// sees the one go and the other come. Were a tree out of Git's order, an entry could
// be reported as gone and come: a difference is never missed.
func DiffRaw(now, before []byte, fn func(now, before *Entry) error) error {
	var n, b Entry
	hasN, hasB := len(now) > 0, len(before) > 0
	var err error
	if hasN {
		if n, now, err = NextEntry(now); err != nil {
			return err
		}
	}
	if hasB {
		if b, before, err = NextEntry(before); err != nil {
			return err
		}
	}
	for hasN || hasB {
		c := 0
		switch {
		case !hasB:
			c = -1
		case !hasN:
			c = 1
		default:
			c = order(n, b)
		}
		switch {
		case c == 0 && (n.Hash != b.Hash || !bytes.Equal(n.Mode, b.Mode)):
			err = fn(&n, &b)
		case c < 0:
			err = fn(&n, nil)
		case c > 0:
			err = fn(nil, &b)
		}
		if err != nil {
			return err
		}
		if c <= 0 {
			if hasN = len(now) > 0; hasN {
				if n, now, err = NextEntry(now); err != nil {
					return err
				}
			}
		}
		if c >= 0 {
			if hasB = len(before) > 0; hasB {
				if b, before, err = NextEntry(before); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// order compares two entries as Git sorts a tree: by name, a directory as if its
// name ended in "/".
func order(a, b Entry) int {
	l := min(len(a.Name), len(b.Name))
	if c := bytes.Compare(a.Name[:l], b.Name[:l]); c != 0 {
		return c
	}
	return int(next(a, l)) - int(next(b, l))
}

// next is the byte of an entry's sort key at i, at or past the end of its name.
func next(e Entry, i int) byte {
	switch {
	case i < len(e.Name):
		return e.Name[i]
	case e.IsDir():
		return '/'
	}
	return 0
}
