package signing_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// The remediator's key is created once and then only read: a second start must sign
// with the same key, or every record it sealed before stops counting.
func TestRuleKeyFileIsCreatedOnceThenKept(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys", "remediator")
	k1, created, err := signing.LoadOrCreateKey(file)
	if err != nil || !created {
		t.Fatalf("first start: created %v, %v", created, err)
	}
	k2, created, err := signing.LoadOrCreateKey(file)
	if err != nil || created {
		t.Fatalf("second start: created %v, %v", created, err)
	}
	if !signing.SameKey(k1.Public(), k2.Public()) {
		t.Fatal("the second start has another key")
	}
	if err := os.WriteFile(file, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := signing.LoadOrCreateKey(file); err == nil || !strings.Contains(err.Error(), "parse signing key") {
		t.Fatalf("a damaged key file is an error, never replaced: %v", err)
	}
	if _, _, err := signing.LoadOrCreateKey(filepath.Join(file, "under-a-file")); err == nil {
		t.Fatal("a key that cannot be created: no error")
	}
}

// Readers of the remediator's records need its public key only: from a .pub file,
// or from the private key file; anything else is refused, naming the file.
func TestRulePublicKeyFromEitherHalf(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "remediator")
	if err := signing.GenerateKeyFile(file); err != nil {
		t.Fatal(err)
	}
	k, err := signing.LoadKey(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{file, file + ".pub"} {
		pub, err := signing.LoadPublicKey(f)
		if err != nil || !signing.SameKey(pub, k.Public()) {
			t.Fatalf("%s: %v", f, err)
		}
	}
	junk := filepath.Join(dir, "junk")
	if err := os.WriteFile(junk, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := signing.LoadPublicKey(junk); err == nil || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk: %v", err)
	}
	if _, err := signing.LoadPublicKey(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "read public key") {
		t.Fatalf("missing: %v", err)
	}
	if _, err := signing.LoadAllowedSigners(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "read allowed signers") {
		t.Fatalf("missing allowed signers: %v", err)
	}
}

func TestRuleSameKeyNeedsTwoKeys(t *testing.T) {
	k, _ := rulesKey(t)
	if signing.SameKey(k.Public(), nil) || signing.SameKey(nil, k.Public()) || signing.SameKey(nil, nil) {
		t.Fatal("a missing key is the same as no key")
	}
	other, _ := rulesKey(t)
	if signing.SameKey(k.Public(), other.Public()) || !signing.SameKey(k.Public(), k.Public()) {
		t.Fatal("SameKey compares the keys")
	}
}

// A commit is the remediator's only when signed by exactly its key, over exactly
// this commit.
func TestRuleCommitSignedByExactlyThisKey(t *testing.T) {
	k, _ := rulesKey(t)
	other, _ := rulesKey(t)
	sig := object.Signature{Name: "r", Email: "r@example.com", When: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	c := &object.Commit{Author: sig, Committer: sig, Message: "m\n", TreeHash: plumbing.NewHash("1111111111111111111111111111111111111111")}
	if err := signing.VerifyCommit(c, k.Public()); !errors.Is(err, signing.ErrUnsigned) {
		t.Fatalf("unsigned: %v", err)
	}
	if err := signing.SignCommit(c, k); err != nil {
		t.Fatal(err)
	}
	if err := signing.VerifyCommit(c, k.Public()); err != nil {
		t.Fatalf("signed: %v", err)
	}
	if err := signing.VerifyCommit(c, other.Public()); err == nil || !strings.Contains(err.Error(), "signed by") {
		t.Fatalf("another key: %v", err)
	}
	c.Message = "changed\n"
	if err := signing.VerifyCommit(c, k.Public()); err == nil {
		t.Fatal("a commit changed after signing verified")
	}
	c.PGPSignature = "junk"
	if err := signing.VerifyCommit(c, k.Public()); err == nil {
		t.Fatal("a junk signature verified")
	}
}
