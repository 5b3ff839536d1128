package infrarepo_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/bounds"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// Two replicas read the same ledger and each reserves a slot with its proposal's
// branch: one atomic push wins; the other is told the ledger moved (its branch is
// not pushed), reads the ledger again, which now holds the winner's reservation,
// and reserves after it. A ledger head the remediator did not sign reserves nothing.
func TestReservationsAreACompareAndSwapWithTheBranch(t *testing.T) {
	ctx := context.Background()
	bare := gittest.BareRepo(t)
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", bare, work)
	gittest.WriteFile(t, filepath.Join(work, "main.tf"), "replicas = 2\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "init")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:main")
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := signing.GenerateKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	key, err := signing.LoadKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	by := object.Signature{Name: "remediator", Email: "remediator@localhost", When: now}
	replica := func() *infrarepo.Repo {
		r, err := infrarepo.Open(ctx, bare, "", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		r.Signer = key
		return r
	}
	propose := func(r *infrarepo.Repo, id string) error {
		t.Helper()
		ledger, head, err := r.Reservations()
		if err != nil {
			t.Fatal(err)
		}
		next, err := ledger.With(bounds.Reservation{ID: id, Runbook: "scale", Policy: "prod", At: now}, now)
		if err != nil {
			t.Fatal(err)
		}
		wt, err := r.Checkout(ctx, "main")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = wt.Close() }()
		gittest.WriteFile(t, filepath.Join(wt.Dir, "main.tf"), "replicas = 4 # "+id+"\n")
		c, err := wt.Commit([]string{"main.tf"}, id, "remediator", "remediator@localhost", now)
		if err != nil {
			t.Fatal(err)
		}
		return wt.PushReserving(ctx, c, "remediation/"+id, plumbing.ZeroHash, infrarepo.Reserve{From: head, Next: next, By: by})
	}
	a, b := replica(), replica()
	if err := propose(a, "one"); err != nil {
		t.Fatal(err)
	}
	err = propose(b, "two")
	if !errors.Is(err, infrarepo.ErrReservationsMoved) {
		t.Fatalf("the second replica's push over a moved ledger: %v", err)
	}
	if out := gittest.Run(t, bare, "branch", "--list", "remediation/two"); out != "" {
		t.Fatalf("the branch of a refused reservation was pushed: %q", out)
	}
	// b's PushReserving fetched: it now reads one's reservation and reserves after it.
	if ledger, _, err := b.Reservations(); err != nil || len(ledger) != 1 || ledger[0].ID != "one" {
		t.Fatalf("b reads %+v %v", ledger, err)
	}
	if err := propose(b, "two"); err != nil {
		t.Fatal(err)
	}
	if err := a.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if ledger, _, err := a.Reservations(); err != nil || len(ledger) != 2 || ledger[1].ID != "two" {
		t.Fatalf("a reads %+v %v", ledger, err)
	}
	// Someone with push access rewrites the ledger: unsigned, it reserves nothing.
	gittest.Run(t, work, "fetch", "-q", "origin", bounds.Ref+":"+bounds.Ref)
	gittest.Run(t, work, "checkout", "-q", bounds.Ref)
	gittest.WriteFile(t, filepath.Join(work, bounds.File), "2026-12-07T09:59:00Z x scale prod\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "forged")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:"+bounds.Ref)
	if err := a.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if ledger, head, err := a.Reservations(); err != nil || len(ledger) != 0 || head.IsZero() {
		t.Fatalf("a forged ledger reserved %+v (head %s) %v", ledger, head, err)
	}
	if err := propose(a, "three"); err != nil {
		t.Fatalf("a reservation over a forged ledger: %v", err)
	}
	// A reservation alone (the branch is already there): a compare-and-swap of the
	// ledger too. b read the ledger before a's last push: b is told it moved.
	stale, staleHead, err := b.Reservations()
	if err != nil {
		t.Fatal(err)
	}
	next, err := stale.With(bounds.Reservation{ID: "one", Runbook: "scale", Policy: "prod", At: now.Add(time.Minute)}, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.PushReservation(ctx, infrarepo.Reserve{From: staleHead, Next: next, By: by}); !errors.Is(err, infrarepo.ErrReservationsMoved) {
		t.Fatalf("a reservation over a moved ledger: %v", err)
	}
	ledger, head, err := b.Reservations()
	if err != nil || len(ledger) != 1 || ledger[0].ID != "three" {
		t.Fatalf("b reads %+v %v after the refused reservation", ledger, err)
	}
	if next, err = ledger.With(bounds.Reservation{ID: "one", Runbook: "scale", Policy: "prod", At: now.Add(time.Minute)}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := b.PushReservation(ctx, infrarepo.Reserve{From: head, Next: next, By: by}); err != nil {
		t.Fatal(err)
	}
	if err := a.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if ledger, _, err := a.Reservations(); err != nil || len(ledger) != 2 || ledger[1].ID != "one" || !ledger[1].At.Equal(now.Add(time.Minute)) {
		t.Fatalf("a reads %+v %v", ledger, err)
	}
}
