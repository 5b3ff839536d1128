package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// reviewers are the people of the tests, each with an SSH key: those with a
// principal are listed in the allowed-signers file; mallory is not.
var reviewers = map[string]string{
	"alice": "alice@example.com", "bob": "bob@example.com", "carol": "carol@example.com", "dana": "dana@example.com", "mallory": "",
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
