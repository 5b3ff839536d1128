package signing_test

// One test per rule of the allowed-signers file (remediator/TRUST.md: "an approval is
// an identity"), each named after the rule, so that a change weakening one fails a
// test that says which. Mutation testing (make mutation) found these rules unguarded.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// rulesKey makes a key and returns it with its public half as an allowed-signers key part.
func rulesKey(t *testing.T) (*signing.Key, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "key")
	if err := signing.GenerateKeyFile(file); err != nil {
		t.Fatal(err)
	}
	k, err := signing.LoadKey(file)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(file + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return k, strings.TrimSpace(string(pub))
}

func rulesSigners(t *testing.T, text string) *signing.AllowedSigners {
	t.Helper()
	as, err := signing.ParseAllowedSigners("allowed_signers", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return as
}

var rulesMsg = []byte("remediation approval v1\ncommit 0123\n")

// verdict is "" when accepted, else the error text.
//
//nolint:unparam // the namespace is part of every verdict
func verdict(as *signing.AllowedSigners, sig []byte, principal, namespace string, at time.Time) string {
	if err := as.Verify(rulesMsg, sig, principal, namespace, at); err != nil {
		return err.Error()
	}
	return ""
}

func TestRuleAllowedSignersValidAfter(t *testing.T) {
	k, pub := rulesKey(t)
	as := rulesSigners(t, `alice valid-after="20260101Z" `+pub+"\n")
	sig, _ := k.Sign(rulesMsg, signing.NamespaceApproval)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := verdict(as, sig, "alice", signing.NamespaceApproval, start.Add(-time.Second)); !strings.Contains(got, "valid only after") {
		t.Fatalf("a signature before valid-after: want refused as too early, got %q", got)
	}
	if got := verdict(as, sig, "alice", signing.NamespaceApproval, start); got != "" {
		t.Fatalf("a signature at valid-after: want accepted, got %q", got)
	}
}

func TestRuleAllowedSignersValidBefore(t *testing.T) {
	k, pub := rulesKey(t)
	as := rulesSigners(t, `alice valid-before="20270101Z" `+pub+"\n")
	sig, _ := k.Sign(rulesMsg, signing.NamespaceApproval)
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := verdict(as, sig, "alice", signing.NamespaceApproval, end); !strings.Contains(got, "valid only before") {
		t.Fatalf("a signature at valid-before: want refused as expired, got %q", got)
	}
	if got := verdict(as, sig, "alice", signing.NamespaceApproval, end.Add(-time.Second)); got != "" {
		t.Fatalf("a signature just before valid-before: want accepted, got %q", got)
	}
}

func TestRuleAllowedSignersNamespaceRestriction(t *testing.T) {
	k, pub := rulesKey(t)
	sig, _ := k.Sign(rulesMsg, signing.NamespaceApproval)
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, options string
		accepted      bool
	}{
		{"no restriction", "", true},
		{"one other namespace", `namespaces="git" `, false},
		{"one namespace, this one", `namespaces="remediation-approval" `, true},
		{"a pattern", `namespaces="remediation-*" `, true},
		{"two others", `namespaces="git,file" `, false},
		{"this one second", `namespaces="git,remediation-approval" `, true},
		{"this one first", `namespaces="remediation-approval,git" `, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := rulesSigners(t, "alice "+tc.options+pub+"\n")
			got := verdict(as, sig, "alice", signing.NamespaceApproval, at)
			if tc.accepted != (got == "") {
				t.Fatalf("namespaces %q: accepted %v, want %v (%s)", tc.options, got == "", tc.accepted, got)
			}
			if !tc.accepted && !strings.Contains(got, "may not sign in namespace remediation-approval") {
				t.Fatalf("refusal does not name the namespace: %q", got)
			}
		})
	}
}

func TestRuleAllowedSignersPrincipalAnywhereInTheList(t *testing.T) {
	k, pub := rulesKey(t)
	sig, _ := k.Sign(rulesMsg, signing.NamespaceApproval)
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, principals, who string
		accepted              bool
	}{
		{"first", "alice@example.com,bob@example.com", "alice@example.com", true},
		{"after a pattern that does not match", "bob@example.com,alice@example.com", "alice@example.com", true},
		{"after an invalid pattern", "[,alice@example.com", "alice@example.com", true},
		{"quoted list, second", `"bob@example.com,alice@example.com"`, "alice@example.com", true},
		{"quoted list, first", `"alice@example.com,bob@example.com"`, "alice@example.com", true},
		{"case is folded", "Alice@Example.com", "alice@EXAMPLE.com", true},
		{"negation after a wildcard", "*@example.com,!mallory@example.com", "mallory@example.com", false},
		{"negation before a wildcard", "!mallory@example.com,*@example.com", "mallory@example.com", false},
		{"not listed", "bob@example.com", "alice@example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := rulesSigners(t, tc.principals+" "+pub+"\n")
			got := verdict(as, sig, tc.who, signing.NamespaceApproval, at)
			if tc.accepted != (got == "") {
				t.Fatalf("%s signing as %s: accepted %v, want %v (%s)", tc.principals, tc.who, got == "", tc.accepted, got)
			}
		})
	}
}

// Every line that lists the key is tried: a line for another key, another
// principal, another namespace or another time does not hide a later one that allows it.
func TestRuleAllowedSignersEveryLineOfTheKeyIsTried(t *testing.T) {
	k, pub := rulesKey(t)
	_, other := rulesKey(t)
	sig, _ := k.Sign(rulesMsg, signing.NamespaceApproval)
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for name, first := range map[string]string{
		"another key":       "alice " + other,
		"another principal": "bob " + pub,
		"another namespace": `alice namespaces="git" ` + pub,
		"expired":           `alice valid-before="20250101Z" ` + pub,
	} {
		t.Run(name, func(t *testing.T) {
			as := rulesSigners(t, first+"\nalice "+pub+"\n")
			if got := verdict(as, sig, "alice", signing.NamespaceApproval, at); got != "" {
				t.Fatalf("the second line allows it: got %q", got)
			}
		})
	}
	as := rulesSigners(t, "bob "+pub+"\n"+`alice namespaces="git" `+pub+"\n")
	got := verdict(as, sig, "alice", signing.NamespaceApproval, at)
	if !strings.Contains(got, "listed for bob, not alice (line 1)") || !strings.Contains(got, "namespace remediation-approval (line 2)") {
		t.Fatalf("a refusal names every line's reason: %q", got)
	}
}

func TestRuleAllowedSignersSignatureMustVerify(t *testing.T) {
	k, pub := rulesKey(t)
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	as := rulesSigners(t, "alice "+pub+"\n")
	wrongNS, _ := k.Sign(rulesMsg, signing.NamespaceGit)
	if got := verdict(as, wrongNS, "alice", signing.NamespaceApproval, at); !strings.Contains(got, "does not verify") {
		t.Fatalf("a signature made in another namespace: want refused, got %q", got)
	}
	other, _ := k.Sign([]byte("another commit"), signing.NamespaceApproval)
	if got := verdict(as, other, "alice", signing.NamespaceApproval, at); !strings.Contains(got, "does not verify") {
		t.Fatalf("a signature over other data: want refused, got %q", got)
	}
	stranger, _ := rulesKey(t)
	s, _ := stranger.Sign(rulesMsg, signing.NamespaceApproval)
	if got := verdict(as, s, "alice", signing.NamespaceApproval, at); !strings.Contains(got, "a key not in allowed_signers") {
		t.Fatalf("an unlisted key: want refused naming the file, got %q", got)
	}
}

func TestRuleAllowedSignersSizeLimit(t *testing.T) {
	line := "# " + strings.Repeat("x", 1021) + "\n" // 1 KiB a line
	full := strings.Repeat(line, signing.MaxAllowedSignersBytes/len(line))
	if len(full) != signing.MaxAllowedSignersBytes {
		t.Fatalf("test file is %d bytes, want exactly the limit", len(full))
	}
	if _, err := signing.ParseAllowedSigners("allowed_signers", []byte(full)); err != nil {
		t.Fatalf("a file of exactly the limit: %v", err)
	}
	_, err := signing.ParseAllowedSigners("allowed_signers", []byte(full+"\n"))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a file one byte over the limit: want refused, got %v", err)
	}
}

func TestRuleAllowedSignersLineSyntax(t *testing.T) {
	_, pub := rulesKey(t)
	for _, tc := range []struct{ name, line, want string }{
		{"empty quoted principals", `"" ` + pub, "allowed_signers:2: no principals"},
		{"unterminated quote", `"alice ` + pub, "allowed_signers:2: unterminated quoted principals"},
		{"only commas", `,, ` + pub, "allowed_signers:2: no principals"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := signing.ParseAllowedSigners("allowed_signers", []byte("# keys\n"+tc.line+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
	as := rulesSigners(t, "\n  # indented comment\n"+`"alice,bob" `+pub+"\ncarol "+pub+"\n")
	if len(as.Signers) != 2 || as.Signers[0].Line != 3 || as.Signers[1].Line != 4 {
		t.Fatalf("signers and their line numbers: %+v", as.Signers)
	}
	if got := strings.Join(as.Signers[0].Principals, ","); got != "alice,bob" {
		t.Fatalf("quoted principals read as %q", got)
	}
}

func TestRulePrincipalsOfAreTheLiteralPrincipalsOfTheKey(t *testing.T) {
	_, pub := rulesKey(t)
	k2, other := rulesKey(t)
	as := rulesSigners(t, "carol "+other+"\nalice,*@example.com,!mallory "+pub+"\nbob "+pub+"\n")
	if got := strings.Join(as.PrincipalsOf(k2.Public()), ","); got != "carol" {
		t.Fatalf("principals of the first key: %q", got)
	}
	k1 := as.Signers[1].Key
	if got := strings.Join(as.PrincipalsOf(k1), ","); got != "alice,bob" {
		t.Fatalf("principals of the second key, listed on two lines: %q, want alice,bob", got)
	}
}
