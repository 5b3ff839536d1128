package infrarepo_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// Three replicas, each with its own mirror, append to one ledger file at once:
// every append survives (each compare-and-swap that lost read the winner's file
// and wrote on it), the file reads as the remediator's, and a head someone else
// pushed (unsigned) reads as nothing, yet is replaced only by compare-and-swap.
func TestUpdateSignedFileIsACompareAndSwap(t *testing.T) {
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
	by := object.Signature{Name: "remediator", Email: "remediator@localhost", When: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	const ref, file = "refs/remediation/test-ledger", "lines"
	replicas := make([]*infrarepo.Repo, 3)
	for i := range replicas {
		r, err := infrarepo.Open(ctx, bare, "", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		r.Signer = key
		replicas[i] = r
	}
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 3; n++ {
				line := fmt.Sprintf("replica-%d-%d\n", i, n)
				if err := r.UpdateSignedFile(ctx, ref, file, "append\n", by, func(old []byte) ([]byte, error) {
					return append(old, line...), nil
				}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := replicas[0].Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	data, _, err := replicas[0].SignedFile(ref, file)
	if err != nil || strings.Count(string(data), "\n") != 9 {
		t.Fatalf("ledger (%v):\n%s", err, data)
	}
	// Unchanged: nothing is pushed.
	head, _ := replicas[0].Tip(ref)
	if err := replicas[0].UpdateSignedFile(ctx, ref, file, "same\n", by, func(old []byte) ([]byte, error) { return old, nil }); err != nil {
		t.Fatal(err)
	}
	if now := gittest.Run(t, bare, "rev-parse", ref); now != head.String() {
		t.Fatalf("an unchanged file was pushed: %s, was %s", now, head)
	}
	// Someone with push access writes the ref: it reads as nothing.
	gittest.Run(t, work, "fetch", "-q", "origin", ref)
	gittest.Run(t, work, "checkout", "-q", "FETCH_HEAD")
	gittest.WriteFile(t, filepath.Join(work, file), "forged\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "forged")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:"+ref)
	r := replicas[1]
	if err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if data, _, err := r.SignedFile(ref, file); err != nil || data != nil {
		t.Fatalf("an unsigned head read as %q (%v)", data, err)
	}
	var saw []byte
	if err := r.UpdateSignedFile(ctx, ref, file, "again\n", by, func(old []byte) ([]byte, error) {
		saw = old
		return []byte("fresh\n"), nil
	}); err != nil || saw != nil {
		t.Fatalf("update over a forged head saw %q (%v)", saw, err)
	}
	if got := gittest.Run(t, bare, "show", ref+":"+file); got != "fresh" {
		t.Fatalf("ledger after the update: %q", got)
	}
}
