package infrarepo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// pushNewBranch creates branch at commit on the remote with one receive-pack exchange.
// The pack holds only what the commit adds to its parent (the commit, the trees on the
// changed paths, the new blobs): go-git's own push walks the whole history to find
// that out, which takes minutes on a repository of 20,000 commits. The update is a
// create (old value zero), so the server refuses it if the branch exists: the
// compare-and-swap that keeps two replicas from opening two proposals.
func (w *WorkTree) pushNewBranch(ctx context.Context, c *object.Commit, branch string) error {
	ep, err := transport.NewEndpoint(w.r.url)
	if err != nil {
		return err
	}
	cli, err := client.NewClient(ep)
	if err != nil {
		return err
	}
	sess, err := cli.NewReceivePackSession(ep, w.r.auth)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", catalogstore.RedactURL(w.r.url), err)
	}
	defer sess.Close()
	adv, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", catalogstore.RedactURL(w.r.url), err)
	}
	ref := plumbing.NewBranchReferenceName(branch)
	if _, exists := adv.References[ref.String()]; exists {
		return fmt.Errorf("push %s: %w", branch, ErrBranchExists)
	}
	hashes, err := w.newObjects(c)
	if err != nil {
		return err
	}
	var pack bytes.Buffer
	if _, err := packfile.NewEncoder(&pack, w.r.repo.Storer, false).Encode(hashes, 0); err != nil {
		return fmt.Errorf("pack %s: %w", branch, err)
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(adv.Capabilities)
	req.Commands = []*packp.Command{{Name: ref, Old: plumbing.ZeroHash, New: c.Hash}}
	req.Packfile = io.NopCloser(&pack)
	report, err := sess.ReceivePack(ctx, req)
	if err == nil && report != nil {
		err = report.Error()
	}
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "already exists") || strings.Contains(msg, "failed to update ref") || strings.Contains(msg, "stale info") {
			return fmt.Errorf("push %s: %w", branch, ErrBranchExists)
		}
		return fmt.Errorf("push %s to %s: %w", branch, catalogstore.RedactURL(w.r.url), err)
	}
	return nil
}

// newObjects lists the objects a commit adds to its (single) parent: the commit and,
// walking only where the two trees differ, the new trees and blobs.
func (w *WorkTree) newObjects(c *object.Commit) ([]plumbing.Hash, error) {
	out := []plumbing.Hash{c.Hash}
	var walk func(newTree, oldTree plumbing.Hash) error
	walk = func(newTree, oldTree plumbing.Hash) error {
		if newTree == oldTree {
			return nil
		}
		out = append(out, newTree)
		nt, err := object.GetTree(w.r.repo.Storer, newTree)
		if err != nil {
			return err
		}
		old := map[string]object.TreeEntry{}
		if !oldTree.IsZero() {
			ot, err := object.GetTree(w.r.repo.Storer, oldTree)
			if err != nil {
				return err
			}
			for _, e := range ot.Entries {
				old[e.Name] = e
			}
		}
		for _, e := range nt.Entries {
			prev, had := old[e.Name]
			if had && prev.Hash == e.Hash {
				continue
			}
			switch e.Mode {
			case filemode.Dir:
				prevHash := plumbing.ZeroHash
				if had && prev.Mode == filemode.Dir {
					prevHash = prev.Hash
				}
				if err := walk(e.Hash, prevHash); err != nil {
					return err
				}
			case filemode.Submodule:
			default:
				out = append(out, e.Hash)
			}
		}
		return nil
	}
	if err := walk(c.TreeHash, w.baseTree.Hash); err != nil {
		return nil, fmt.Errorf("list new objects: %w", err)
	}
	return out, nil
}
