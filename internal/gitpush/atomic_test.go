package gitpush

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// Two refs move together or not at all: a proposal's branch and its reservation.
// Against a real git receive-pack, a push whose second ref moved since it was read
// changes neither, and says ErrStale; the same push from the right old values
// changes both, with their objects whole in the repository.
func TestUpdateAtomicIsAllOrNone(t *testing.T) {
	ctx := context.Background()
	bare := gittest.BareRepo(t)
	s := memory.NewStorage()
	base := commit(t, s, edit(t, s, plumbing.ZeroHash, map[string]string{"a.txt": "a\n"}), plumbing.ZeroHash)
	ledger := commit(t, s, edit(t, s, plumbing.ZeroHash, map[string]string{"reservations": "one\n"}), plumbing.ZeroHash)
	remote := Remote{URL: bare}
	for _, u := range []RefUpdate{{Ref: "refs/heads/main", Commit: base}, {Ref: "refs/remediation/reservations", Commit: ledger}} {
		if err := remote.Update(ctx, s, u.Commit, plumbing.ZeroHash, u.Ref, plumbing.ZeroHash); err != nil {
			t.Fatal(err)
		}
	}
	branch := commit(t, s, edit(t, s, base.TreeHash, map[string]string{"a.txt": "b\n"}), base.Hash)
	next := commit(t, s, edit(t, s, ledger.TreeHash, map[string]string{"reservations": "one\ntwo\n"}), ledger.Hash)
	push := func(ledgerOld plumbing.Hash) error {
		c, err := remote.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c.UpdateAtomic(ctx, s, []RefUpdate{
			{Ref: "refs/heads/remediation/x", Commit: branch, ParentTree: base.TreeHash},
			{Ref: "refs/remediation/reservations", Old: ledgerOld, Commit: next, ParentTree: ledger.TreeHash},
		})
	}
	refs := func() string { return gittest.Run(t, bare, "for-each-ref", "--format=%(refname) %(objectname)") }

	// As advertised, the ledger is not where this writer read it: refused before sending.
	if err := push(base.Hash); !errors.Is(err, ErrStale) {
		t.Fatalf("a stale ledger: %v", err)
	}
	// The server's own compare-and-swap: the ledger moves after the session read it.
	c, err := remote.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := commit(t, s, edit(t, s, ledger.TreeHash, map[string]string{"reservations": "one\nthree\n"}), ledger.Hash)
	if err := remote.Update(ctx, s, other, ledger.TreeHash, "refs/remediation/reservations", ledger.Hash); err != nil {
		t.Fatal(err)
	}
	err = c.UpdateAtomic(ctx, s, []RefUpdate{
		{Ref: "refs/heads/remediation/x", Commit: branch, ParentTree: base.TreeHash},
		{Ref: "refs/remediation/reservations", Old: ledger.Hash, Commit: next, ParentTree: ledger.TreeHash},
	})
	if !errors.Is(err, ErrStale) {
		t.Fatalf("the ledger moved during the push: %v", err)
	}
	if got := refs(); strings.Contains(got, "remediation/x") || !strings.Contains(got, other.Hash.String()) {
		t.Fatalf("a refused atomic push changed refs:\n%s", got)
	}
	next = commit(t, s, edit(t, s, other.TreeHash, map[string]string{"reservations": "one\nthree\ntwo\n"}), other.Hash)
	c, err = remote.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateAtomic(ctx, s, []RefUpdate{
		{Ref: "refs/heads/remediation/x", Commit: branch, ParentTree: base.TreeHash},
		{Ref: "refs/remediation/reservations", Old: other.Hash, Commit: next, ParentTree: other.TreeHash},
	}); err != nil {
		t.Fatal(err)
	}
	got := refs()
	if !strings.Contains(got, "refs/heads/remediation/x "+branch.Hash.String()) || !strings.Contains(got, "refs/remediation/reservations "+next.Hash.String()) {
		t.Fatalf("after the atomic push:\n%s", got)
	}
	gittest.Run(t, bare, "fsck", "--strict")
	if body := gittest.Run(t, bare, "show", "refs/remediation/reservations:reservations"); body != "one\nthree\ntwo" {
		t.Fatalf("ledger %q", body)
	}
}
