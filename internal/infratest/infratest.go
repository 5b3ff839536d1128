// Package infratest builds, for tests only, an infrastructure repository as the
// remediator's record and engine tests share it: a bare repository, a clone whose
// Git signs merges with the remediator's key, a CI key listed as ci@example.com,
// and the remediator's mirror of the bare repository.
package infratest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// Work makes a bare infrastructure repository and a clone of it whose main holds
// one commit, for the tests to build history in and push.
func Work(t *testing.T) (bare, work string) {
	t.Helper()
	bare = gittest.BareRepo(t)
	work = t.TempDir()
	gittest.Run(t, "", "clone", "-q", bare, work)
	gittest.Run(t, work, "config", "user.name", "t")
	gittest.Run(t, work, "config", "user.email", "t@localhost")
	// The remediator's key, with which `merge -S` makes the merges it would make.
	keyFile := filepath.Join(work, ".git", "remediator_key")
	if err := signing.GenerateKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	gittest.Run(t, work, "config", "gpg.format", "ssh")
	gittest.Run(t, work, "config", "user.signingKey", keyFile)
	// CI's key, which signs check reports, listed as ci@example.com.
	ciFile := filepath.Join(work, ".git", "ci_key")
	if err := signing.GenerateKeyFile(ciFile); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(ciFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	gittest.WriteFile(t, filepath.Join(work, ".git", "allowed_signers"), "ci@example.com "+string(pub))
	gittest.WriteFile(t, filepath.Join(work, "README.md"), "infra\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", "initial")
	gittest.Run(t, work, "branch", "-M", "main")
	return bare, work
}

// Open opens the remediator's mirror of bare, signing with key (nil: none).
func Open(t *testing.T, bare string, key *signing.Key) *infrarepo.Repo {
	t.Helper()
	infra, err := infrarepo.Open(context.Background(), bare, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = infra.Close() })
	infra.Signer = key
	return infra
}

// Key is the remediator's key of a Work clone.
func Key(t *testing.T, work string) *signing.Key {
	t.Helper()
	k, err := signing.LoadKey(filepath.Join(work, ".git", "remediator_key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
