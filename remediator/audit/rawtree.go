package audit

import (
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
)

// The walk reads a root tree per commit and the artifact directory at each merge: on
// a long history that is most of the audit, so these trees are read raw (gittree),
// without building an object per entry.

// dirEntry is a tree entry the audit looks at: its object and whether it is a tree.
type dirEntry struct {
	hash plumbing.Hash
	dir  bool
}

// readRaw returns a tree object's content.
func readRaw(repo *git.Repository, h plumbing.Hash) ([]byte, error) {
	return gittree.ReadRaw(repo.Storer, h)
}

// blobContents returns a blob's content: a note, an artifact.
func blobContents(repo *git.Repository, h plumbing.Hash) ([]byte, error) {
	return gittree.Contents(repo.Storer, plumbing.BlobObject, h)
}

// findEntry looks one name up in a raw tree (nil: absent).
func findEntry(raw []byte, name string) (*dirEntry, error) {
	e, found, err := gittree.Find(raw, name)
	if err != nil || !found {
		return nil, err
	}
	return &dirEntry{hash: e.Hash, dir: e.IsDir()}, nil
}

// diffEntries lists the names whose entry differs between two raw trees (added,
// removed or changed). A name that is a file on one side and a directory on the other
// is listed twice.
func diffEntries(now, before []byte) ([]string, error) {
	var out []string
	err := gittree.DiffRaw(now, before, func(n, b *gittree.Entry) error {
		if n == nil {
			n = b
		}
		out = append(out, string(n.Name))
		return nil
	})
	return out, err
}
