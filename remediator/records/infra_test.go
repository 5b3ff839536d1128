package records_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// infraWork makes a bare infrastructure repository and a clone of it whose main
// holds one commit, for the tests to build history in and push (the same world as
// lifecycle's tests build: an external test package cannot share its helpers).
func infraWork(t *testing.T) (bare, work string) {
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

// openInfra opens the remediator's mirror of bare, signing nothing (the records'
// tests read; lifecycle's give it the remediator's key).
func openInfra(t *testing.T, bare string) *infrarepo.Repo {
	t.Helper()
	infra, err := infrarepo.Open(context.Background(), bare, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = infra.Close() })
	return infra
}

// workKey is the remediator's key of an infraWork clone.
func workKey(t *testing.T, work string) *signing.Key {
	t.Helper()
	k, err := signing.LoadKey(filepath.Join(work, ".git", "remediator_key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
