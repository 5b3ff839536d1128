// Package gitpush pushes one commit as one compare-and-swap ref update, sending only
// the objects the commit adds to its parent. go-git's own push walks the whole history
// to work that out, which takes minutes on a repository of 20,000 commits.
package gitpush

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
)

// ErrStale means the ref was not where the update expected: it exists when it should
// not, or moved since it was read. Another writer got there first.
var ErrStale = errors.New("the remote ref moved")

// Remote is a repository pushed to: its URL and the credentials its protocol uses.
type Remote struct {
	URL  string
	Auth transport.AuthMethod
}

// Update sets ref on the remote to commit, if and only if it is at old (zero: if it
// does not exist). The pack holds the commit and the trees and blobs it does not
// share with parentTree (zero: everything), read from s.
func (r Remote) Update(ctx context.Context, s storer.EncodedObjectStorer, commit *object.Commit, parentTree plumbing.Hash,
	ref plumbing.ReferenceName, old plumbing.Hash) error {
	c, err := r.Connect(ctx)
	if err != nil {
		return err
	}
	return c.Update(ctx, s, commit, parentTree, ref, old)
}

// Delete removes ref on the remote if and only if it is at old.
func (r Remote) Delete(ctx context.Context, ref plumbing.ReferenceName, old plumbing.Hash) error {
	c, err := r.Connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.at(ref, old); err != nil {
		return err
	}
	return send(ctx, c.sess, c.adv, &packp.Command{Name: ref, Old: old, New: plumbing.ZeroHash}, nil)
}

// Conn is a session with the remote, open and its refs read, ready for one update. A
// writer that knows it will push soon connects while its writes gather, so that the
// server's start-up is not on the push's path. The refs are those of the moment it
// connected: an update from a ref that has moved since is refused by the server (its
// compare-and-swap), as one the advertisement already shows moved is refused here.
type Conn struct {
	sess transport.ReceivePackSession
	adv  *packp.AdvRefs // nil: an empty repository
}

// Connect opens a session and reads the advertised refs.
func (r Remote) Connect(ctx context.Context) (*Conn, error) {
	sess, adv, err := connect(ctx, r.URL, r.Auth)
	if err != nil {
		return nil, err
	}
	return &Conn{sess: sess, adv: adv}, nil
}

// Update is Remote.Update over this session, which it closes.
func (c *Conn) Update(ctx context.Context, s storer.EncodedObjectStorer, commit *object.Commit, parentTree plumbing.Hash,
	ref plumbing.ReferenceName, old plumbing.Hash) error {
	defer c.Close()
	if err := c.at(ref, old); err != nil {
		return err
	}
	// A remote that cannot complete a thin pack says so ("no-thin"): then every
	// object goes whole.
	thin := c.adv == nil || !c.adv.Capabilities.Supports(capability.Capability("no-thin"))
	objs, err := newObjects(s, commit, parentTree, thin)
	if err != nil {
		return err
	}
	pack, err := packBytes(s, objs)
	if err != nil {
		return err
	}
	return send(ctx, c.sess, c.adv, &packp.Command{Name: ref, Old: old, New: commit.Hash}, pack)
}

// RefUpdate is one ref moved to a commit, if and only if it is at Old (zero: absent).
// The pack carries the objects Commit adds to ParentTree (zero: everything).
type RefUpdate struct {
	Ref        plumbing.ReferenceName
	Old        plumbing.Hash
	Commit     *object.Commit
	ParentTree plumbing.Hash
}

// ErrNoAtomic means the remote cannot apply several ref updates all or none.
var ErrNoAtomic = errors.New("the remote does not offer atomic pushes")

// UpdateAtomic applies every update or none, in one push (receive-pack's atomic
// capability): a compare-and-swap over several refs, such as a proposal's branch and
// the reservation that lets it count against a bound. A ref not at its Old fails the
// whole push with ErrStale. The session is closed.
func (c *Conn) UpdateAtomic(ctx context.Context, s storer.EncodedObjectStorer, updates []RefUpdate) error {
	defer c.Close()
	if c.adv != nil && !c.adv.Capabilities.Supports(capability.Atomic) {
		return ErrNoAtomic
	}
	thin := c.adv == nil || !c.adv.Capabilities.Supports(capability.Capability("no-thin"))
	var cmds []*packp.Command
	var objs []packObject
	seen := map[plumbing.Hash]bool{}
	for _, u := range updates {
		if err := c.at(u.Ref, u.Old); err != nil {
			return err
		}
		more, err := newObjects(s, u.Commit, u.ParentTree, thin)
		if err != nil {
			return err
		}
		for _, o := range more {
			if !seen[o.hash] {
				seen[o.hash] = true
				objs = append(objs, o)
			}
		}
		cmds = append(cmds, &packp.Command{Name: u.Ref, Old: u.Old, New: u.Commit.Hash})
	}
	pack, err := packBytes(s, objs)
	if err != nil {
		return err
	}
	return sendAll(ctx, c.sess, c.adv, cmds, pack, true)
}

// Close ends a session that carried no update; closing one twice is harmless.
func (c *Conn) Close() {
	if c != nil && c.sess != nil {
		_ = c.sess.Close()
		c.sess = nil
	}
}

// at checks that ref is at old (zero: absent) as advertised, before anything is sent:
// the compare half of the compare-and-swap, as far as this side can see it.
func (c *Conn) at(ref plumbing.ReferenceName, old plumbing.Hash) error {
	var current plumbing.Hash
	if c.adv != nil {
		current = c.adv.References[ref.String()]
	}
	if current != old {
		return fmt.Errorf("%s is at %s, expected %s: %w", ref, short(current), short(old), ErrStale)
	}
	return nil
}

// connect opens a receive-pack session and reads the advertised refs (an empty
// repository is no error; adv may then be nil). The caller closes the session. A
// repository on this machine gets a session that does not wait for receive-pack's
// work after its report (local.go).
func connect(ctx context.Context, url string, auth transport.AuthMethod) (transport.ReceivePackSession, *packp.AdvRefs, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return nil, nil, err
	}
	var sess transport.ReceivePackSession
	if ep.Protocol == "file" {
		sess, err = openLocal(ctx, ep.Path)
	} else {
		var cli transport.Transport
		if cli, err = client.NewClient(ep); err == nil {
			sess, err = cli.NewReceivePackSession(ep, auth)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	adv, err := sess.AdvertisedReferencesContext(ctx)
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return sess, adv, nil
	}
	if err != nil {
		sess.Close()
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	return sess, adv, nil
}

// send makes one ref update, with its pack (nil for a deletion), and classifies a
// lost race as ErrStale.
func send(ctx context.Context, sess transport.ReceivePackSession, adv *packp.AdvRefs, cmd *packp.Command, pack *bytes.Buffer) error {
	return sendAll(ctx, sess, adv, []*packp.Command{cmd}, pack, false)
}

// sendAll makes the ref updates, all or none when atomic, with their pack.
func sendAll(ctx context.Context, sess transport.ReceivePackSession, adv *packp.AdvRefs, cmds []*packp.Command, pack *bytes.Buffer, atomic bool) error {
	caps := capability.NewList()
	if adv != nil {
		caps = adv.Capabilities
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(caps)
	if atomic {
		if err := req.Capabilities.Set(capability.Atomic); err != nil {
			return err
		}
	}
	req.Commands = cmds
	if pack != nil {
		req.Packfile = io.NopCloser(pack)
	}
	report, err := sess.ReceivePack(ctx, req)
	if err == nil && report != nil {
		err = report.Error()
	}
	if err != nil {
		msg := err.Error()
		for _, race := range []string{"already exists", "failed to update ref", "stale info", "fetch first", "non-fast-forward", "cannot lock ref", "incorrect old value", "atomic push failed", "atomic transaction failed"} {
			if strings.Contains(msg, race) {
				return fmt.Errorf("%s: %w (%w)", cmds[0].Name, ErrStale, err)
			}
		}
		return err
	}
	return nil
}

func short(h plumbing.Hash) string {
	if h.IsZero() {
		return "nothing"
	}
	return h.String()[:12]
}

// newObjects lists the objects a commit adds to its parent tree: the commit and,
// walking only where the two trees differ, the new trees and blobs. With thin, each
// tree or blob that replaces one of the parent tree's at its path names that one as
// its delta base.
func newObjects(s storer.EncodedObjectStorer, c *object.Commit, parentTree plumbing.Hash, thin bool) ([]packObject, error) {
	out := []packObject{{hash: c.Hash}}
	seen := map[plumbing.Hash]bool{}
	add := func(o packObject) {
		if seen[o.hash] {
			return // two new files of one content: one object
		}
		seen[o.hash] = true
		if !thin {
			o.base, o.baseRaw = plumbing.ZeroHash, nil
		}
		out = append(out, o)
	}
	var walk func(newTree, oldTree plumbing.Hash) error
	walk = func(newTree, oldTree plumbing.Hash) error {
		if newTree == oldTree {
			return nil
		}
		now, err := gittree.ReadRaw(s, newTree)
		if err != nil {
			return err
		}
		before, err := gittree.ReadRaw(s, oldTree)
		if err != nil {
			return err
		}
		add(packObject{hash: newTree, base: oldTree, raw: now, baseRaw: before})
		return gittree.DiffRaw(now, before, func(n, b *gittree.Entry) error {
			switch {
			case n == nil, n.IsGitlink():
				return nil // deleted, or a submodule's commit: nothing to send
			case b != nil && b.Hash == n.Hash:
				return nil // only the mode changed: the remote has the object
			case n.IsDir():
				prev := plumbing.ZeroHash
				if b != nil && b.IsDir() {
					prev = b.Hash
				}
				return walk(n.Hash, prev)
			}
			base := plumbing.ZeroHash
			if b != nil && !b.IsDir() && !b.IsGitlink() {
				base = b.Hash
			}
			add(packObject{hash: n.Hash, base: base})
			return nil
		})
	}
	if err := walk(c.TreeHash, parentTree); err != nil {
		return nil, fmt.Errorf("list new objects: %w", err)
	}
	return out, nil
}
