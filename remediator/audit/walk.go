package audit

import (
	"bytes"
	"path"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/util"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	commitgraph "github.com/go-git/go-git/v5/plumbing/format/commitgraph/v2"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// node is what the walk needs of a commit: its tree, parents and committer time.
// commit is the decoded commit when it had to be decoded, else nil.
type node struct {
	hash    plumbing.Hash
	tree    plumbing.Hash
	parents []plumbing.Hash
	when    time.Time
	commit  *object.Commit
	// parentIdx are the parents' positions in the commit-graph, when it gave them.
	parentIdx []uint32
}

// nodes reads commits for the walk: from Git's commit-graph where the repository has
// one (`git gc` writes it), which holds each commit's tree, parents and time, so that
// only the commits the ledger needs (the merges) are decoded; otherwise, and for
// commits newer than the graph, from the commit objects.
type nodes struct {
	repo  *git.Repository
	graph commitgraph.Index
}

func openNodes(repo *git.Repository) *nodes {
	n := &nodes{repo: repo}
	st, ok := repo.Storer.(interface{ Filesystem() billy.Filesystem })
	if !ok {
		return n
	}
	fs := st.Filesystem()
	// Read into memory: go-git's index reads the file with a system call per field,
	// which costs more than decoding the commits it saves.
	if data, err := util.ReadFile(fs, path.Join("objects", "info", "commit-graph")); err == nil {
		if g, err := commitgraph.OpenFileIndex(inMemory{bytes.NewReader(data)}); err == nil {
			n.graph = g
		}
		return n
	}
	if g, err := commitgraph.OpenChainIndex(fs); err == nil {
		n.graph = g
	}
	return n
}

// inMemory is a commit-graph file read whole.
type inMemory struct{ *bytes.Reader }

func (inMemory) Close() error { return nil }

func (n *nodes) get(h plumbing.Hash) (node, error) {
	if n.graph != nil {
		if i, err := n.graph.GetIndexByHash(h); err == nil {
			if nd, ok := n.at(i, h); ok {
				return nd, nil
			}
		}
	}
	c, err := n.repo.CommitObject(h)
	if err != nil {
		return node{}, err
	}
	return node{hash: h, tree: c.TreeHash, parents: c.ParentHashes, when: c.Committer.When, commit: c}, nil
}

// at reads the graph's commit at index i.
func (n *nodes) at(i uint32, h plumbing.Hash) (node, bool) {
	d, err := n.graph.GetCommitDataByIndex(i)
	if err != nil {
		return node{}, false
	}
	return node{hash: h, tree: d.TreeHash, parents: d.ParentHashes, when: d.When, parentIdx: d.ParentIndexes}, true
}

// parent reads a node's first parent: by its position in the graph when the graph
// gave the node (no search), else by hash.
func (n *nodes) parent(nd node) (node, error) {
	if len(nd.parentIdx) > 0 {
		if p, ok := n.at(nd.parentIdx[0], nd.parents[0]); ok {
			return p, nil
		}
	}
	return n.get(nd.parents[0])
}

// decode returns the node's commit, decoding it when the graph gave the node.
func (n *nodes) decode(nd *node) (*object.Commit, error) {
	if nd.commit == nil {
		c, err := n.repo.CommitObject(nd.hash)
		if err != nil {
			return nil, err
		}
		nd.commit = c
	}
	return nd.commit, nil
}

func (n *nodes) close() {
	if n.graph != nil {
		_ = n.graph.Close()
	}
}
