package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// reviewers are the people of the tests, each with an SSH key: those with a
// principal are listed in the allowed-signers file; mallory is not. ci is CI's key,
// which signs check reports (forge.check_reporters).
var reviewers = map[string]string{
	"alice": "alice@example.com", "bob": "bob@example.com", "carol": "carol@example.com", "dana": "dana@example.com", "mallory": "",
	"ci": "ci@example.com",
}

// writeKeys makes each reviewer's key under dir/keys and dir/allowed_signers.
func writeKeys(t testing.TB, dir string) {
	t.Helper()
	var allowed strings.Builder
	allowed.WriteString("# reviewers of the tests\n")
	for name, principal := range reviewers {
		f := filepath.Join(dir, "keys", name)
		if err := signing.GenerateKeyFile(f); err != nil {
			t.Fatal(err)
		}
		if principal == "" {
			continue
		}
		pub, err := os.ReadFile(f + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		allowed.WriteString(principal + " " + string(pub))
	}
	writeFile(t, filepath.Join(dir, "allowed_signers"), allowed.String())
}

// keyOf is a reviewer's private key file next to the config.
func keyOf(cfg, who string) string { return filepath.Join(filepath.Dir(cfg), "keys", who) }

// approveAs approves the proposal's head with who's key.
func approveAs(t *testing.T, cfg, id, who string) {
	t.Helper()
	if code, _, errs := cli(t, "approve", "--config", cfg, "--id", id, "--key", keyOf(cfg, who)); code != 0 {
		t.Fatalf("approve as %s: %s", who, errs)
	}
}

// remediatorKeyOf is the remediator's own key under the config's state_dir (made
// now when no command has made it yet), and its file.
func remediatorKeyOf(t testing.TB, cfg string) (*signing.Key, string) {
	t.Helper()
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := signing.LoadOrCreateKey(c.SigningKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	return k, c.SigningKeyFile()
}

// asRemediator is git run with the remediator's key signing the commits: a merge
// made so is one the remediator made, as far as any check can tell.
func asRemediator(t testing.TB, cfg, work string, args ...string) string {
	t.Helper()
	_, file := remediatorKeyOf(t, cfg)
	return gittest.Run(t, work, append([]string{"-c", "gpg.format=ssh", "-c", "user.signingKey=" + file, "-c", "commit.gpgSign=true"}, args...)...)
}

// sealedNote writes the remediator's sealed record of commit to a file, for
// `git notes add -F`: what verification writes.
//
//nolint:unparam // the kind is what a seal binds: a test of another kind names it
func sealedNote(t testing.TB, cfg string, kind records.RecordKind, commit, body string) string {
	t.Helper()
	k, _ := remediatorKeyOf(t, cfg)
	note, err := records.Seal(k, kind, plumbing.NewHash(commit), body)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "note")
	writeFile(t, f, string(note))
	return f
}
