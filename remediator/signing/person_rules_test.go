package signing_test

// Rules of who a signature stands for (remediator/TRUST.md: "an approval is an
// identity"): an approval is one person's key listed under that person's name, and a
// refusal names only the lines that concern the signing key. Mutation testing (make
// mutation) found these three unguarded in allowed.go.

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// A pattern line that matches the person does not hide a later line that names
// them: the person still approves by the literal line.
func TestRuleApprovalByLiteralLineAfterAPatternLine(t *testing.T) {
	k, pub := rulesKey(t)
	sig, _ := k.Sign(rulesMsg, signing.NamespaceApproval)
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	as := rulesSigners(t, "*@example.com "+pub+"\nalice@example.com "+pub+"\n")
	if _, err := as.VerifyPerson(rulesMsg, sig, "alice@example.com", signing.NamespaceApproval, at); err != nil {
		t.Fatalf("line 2 names alice: want her approval accepted, got %v", err)
	}

	only := rulesSigners(t, "*@example.com "+pub+"\n")
	_, err := only.VerifyPerson(rulesMsg, sig, "alice@example.com", signing.NamespaceApproval, at)
	if err == nil || !strings.Contains(err.Error(), "only by a pattern principal (line 1)") {
		t.Fatalf("only a pattern lists alice: want refused naming line 1, got %v", err)
	}
}

// A refused line (a certificate authority, an unknown option) is named in a
// refusal only when it lists the signing key: a signature by an unlisted key is
// refused as not in the file, not blamed on someone else's refused line.
func TestRuleRefusedLineNamedOnlyForItsOwnKey(t *testing.T) {
	_, refusedPub := rulesKey(t)
	stranger, _ := rulesKey(t)
	sig, _ := stranger.Sign(rulesMsg, signing.NamespaceApproval)
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	as := rulesSigners(t, "bob cert-authority "+refusedPub+"\n")
	if len(as.Refused) != 1 {
		t.Fatalf("the cert-authority line: want it refused, got %+v", as.Refused)
	}
	got := verdict(as, sig, "alice", signing.NamespaceApproval, at)
	if !strings.Contains(got, "a key not in allowed_signers") || strings.Contains(got, "cert-authority") {
		t.Fatalf("an unlisted key: want \"a key not in allowed_signers\" without bob's refused line, got %q", got)
	}

	refusedKey, ownPub := rulesKey(t)
	own := rulesSigners(t, "alice cert-authority "+ownPub+"\n")
	sig, _ = refusedKey.Sign(rulesMsg, signing.NamespaceApproval)
	if got := verdict(own, sig, "alice", signing.NamespaceApproval, at); !strings.Contains(got, "allowed_signers:1: principals \"alice\": cert-authority is not accepted") {
		t.Fatalf("the refused line's own key: want the refusal naming line 1, got %q", got)
	}
}

// A reporter's key is known by every line of the file, not only the first: the
// check that a reporter never approves finds the key wherever it is listed.
func TestRuleListsForReadsEveryLine(t *testing.T) {
	_, alicePub := rulesKey(t)
	reporter, reporterPub := rulesKey(t)
	as := rulesSigners(t, "alice "+alicePub+"\nci-bot,*@example.com "+reporterPub+"\n")
	key := reporter.Public()
	for _, tc := range []struct {
		name       string
		principals []string
		want       bool
	}{
		{"named on line 2", []string{"ci-bot"}, true},
		{"named second of the principals asked", []string{"other", "CI-Bot"}, true},
		{"only by a pattern", []string{"x@example.com"}, false},
		{"another key's principal", []string{"alice"}, false},
		{"none asked", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := as.ListsFor(key, tc.principals); got != tc.want {
				t.Fatalf("ListsFor(reporter key, %v) = %v, want %v", tc.principals, got, tc.want)
			}
		})
	}
}
