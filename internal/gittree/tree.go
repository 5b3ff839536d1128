// Package gittree edits Git trees directly in an object store: set or delete files
// and get the new root tree, rewriting only the trees on the changed paths. No work
// tree is needed, so a commit costs the depth of the change, not the size of the
// repository.
package gittree

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Edit returns the hash of root's tree with the given files replaced: a non-nil
// blob hash sets the file, a nil one deletes it. Only the trees on the changed paths
// are rewritten, so a commit costs the depth of the catalog, not its size; no work
// tree is needed. root may be ZeroHash for an empty tree.
func Edit(s storer.EncodedObjectStorer, root plumbing.Hash, edits map[string]*plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !root.IsZero() {
		t, err := object.GetTree(s, root)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", root, err)
		}
		entries = append(entries, t.Entries...)
	}
	// Group the edits by their first path segment.
	leaves := map[string]*plumbing.Hash{}
	subdirs := map[string]map[string]*plumbing.Hash{}
	for p, h := range edits {
		head, rest, nested := strings.Cut(p, "/")
		if !nested {
			leaves[head] = h
			continue
		}
		if subdirs[head] == nil {
			subdirs[head] = map[string]*plumbing.Hash{}
		}
		subdirs[head][rest] = h
	}
	byName := map[string]int{}
	for i, e := range entries {
		byName[e.Name] = i
	}
	drop := map[string]bool{}
	set := func(name string, mode filemode.FileMode, h plumbing.Hash) {
		if i, ok := byName[name]; ok {
			entries[i] = object.TreeEntry{Name: name, Mode: mode, Hash: h}
			return
		}
		byName[name] = len(entries)
		entries = append(entries, object.TreeEntry{Name: name, Mode: mode, Hash: h})
	}
	for name, h := range leaves {
		if i, ok := byName[name]; ok && entries[i].Mode == filemode.Dir {
			return plumbing.ZeroHash, fmt.Errorf("%s is a directory, not a file", name)
		}
		if h == nil {
			drop[name] = true
			continue
		}
		set(name, filemode.Regular, *h)
	}
	for name, sub := range subdirs {
		base := plumbing.ZeroHash
		if i, ok := byName[name]; ok {
			if entries[i].Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s is a file, not a directory", name)
			}
			base = entries[i].Hash
		}
		h, err := Edit(s, base, sub)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s/%w", name, err)
		}
		if h.IsZero() {
			drop[name] = true // Git has no empty directories
			continue
		}
		set(name, filemode.Dir, h)
	}
	kept := entries[:0]
	for _, e := range entries {
		if !drop[e.Name] {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return plumbing.ZeroHash, nil
	}
	sortTreeEntries(kept)
	tree := &object.Tree{Entries: kept}
	obj := s.NewEncodedObject()
	if err := tree.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	return s.SetEncodedObject(obj)
}

// sortTreeEntries orders entries as Git does: by name, a directory sorting as if its
// name ended in "/".
func sortTreeEntries(es []object.TreeEntry) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(es, func(i, j int) bool { return key(es[i]) < key(es[j]) })
}

// WriteBlob stores data as a blob.
func WriteBlob(s storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// Tree returns the tree h, or an empty tree for the zero hash (the parent of a root
// commit, a catalog with no commit yet).
func Tree(s storer.EncodedObjectStorer, h plumbing.Hash) (*object.Tree, error) {
	if h.IsZero() {
		return &object.Tree{}, nil
	}
	return object.GetTree(s, h)
}
