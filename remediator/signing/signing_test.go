package signing

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func newKey(t *testing.T, dir, name string) (*Key, string) {
	t.Helper()
	file := filepath.Join(dir, name)
	if err := GenerateKeyFile(file); err != nil {
		t.Fatal(err)
	}
	k, err := LoadKey(file)
	if err != nil {
		t.Fatal(err)
	}
	return k, file
}

func pubLine(t *testing.T, keyFile string) string {
	t.Helper()
	data, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func sshKeygen(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Fatal("ssh-keygen is not installed (Debian's openssh-client; .ci/run and make demo install it)")
	}
	cmd := exec.Command("ssh-keygen", args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Signatures we make verify with ssh-keygen, and ssh-keygen's verify with us.
func TestInteropWithSSHKeygen(t *testing.T) {
	dir := t.TempDir()
	alice, aliceFile := newKey(t, dir, "alice")
	_, malloryFile := newKey(t, dir, "mallory")
	allowed := filepath.Join(dir, "allowed_signers")
	content := "# reviewers\nalice@example.com namespaces=\"remediation-approval,git\" " + pubLine(t, aliceFile) + "\n"
	if err := os.WriteFile(allowed, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	as, err := LoadAllowedSigners(allowed)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("approve commit 0123\n")

	sig, err := alice.Sign(msg, NamespaceApproval)
	if err != nil {
		t.Fatal(err)
	}
	// Not msg.sig: ssh-keygen -Y sign below would find it there and keep it.
	sigFile := filepath.Join(dir, "ours.sig")
	if err := os.WriteFile(sigFile, sig, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := sshKeygen(t, string(msg), "-Y", "verify", "-f", allowed, "-I", "alice@example.com", "-n", NamespaceApproval, "-s", sigFile); err != nil {
		t.Fatalf("ssh-keygen refuses our signature: %v\n%s", err, out)
	}

	msgFile := filepath.Join(dir, "msg")
	if err := os.WriteFile(msgFile, msg, 0o644); err != nil {
		t.Fatal(err)
	}
	for who, key := range map[string]string{"alice": aliceFile, "mallory": malloryFile} {
		if out, err := sshKeygen(t, "", "-Y", "sign", "-f", key, "-n", NamespaceApproval, msgFile); err != nil {
			t.Fatalf("ssh-keygen sign: %v %s", err, out)
		}
		theirs, err := os.ReadFile(msgFile + ".sig")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(msgFile + ".sig"); err != nil {
			t.Fatal(err)
		}
		err = as.Verify(msg, theirs, "alice@example.com", NamespaceApproval, time.Now())
		switch who {
		case "alice":
			if err != nil {
				t.Fatalf("alice's ssh-keygen signature refused: %v", err)
			}
			for name, bad := range map[string]error{
				"another principal": as.Verify(msg, theirs, "bob@example.com", NamespaceApproval, time.Now()),
				"another message":   as.Verify([]byte("approve commit 9999\n"), theirs, "alice@example.com", NamespaceApproval, time.Now()),
				"another namespace": as.Verify(msg, theirs, "alice@example.com", "file", time.Now()),
			} {
				if bad == nil {
					t.Errorf("%s: accepted", name)
				}
			}
		case "mallory":
			if err == nil || !strings.Contains(err.Error(), "a key not in") {
				t.Fatalf("an unknown key was accepted or misreported: %v", err)
			}
		}
	}
}

// A commit we sign is verified by git itself, and a commit git signs by us.
func TestCommitSignaturesInteropWithGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is not installed")
	}
	dir := t.TempDir()
	k, keyFile := newKey(t, dir, "remediator")
	allowed := filepath.Join(dir, "allowed_signers")
	if err := os.WriteFile(allowed, []byte("remediator@localhost "+pubLine(t, keyFile)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(dir, "repo")
	repo, err := git.PlainInit(repoDir, false)
	if err != nil {
		t.Fatal(err)
	}
	blob := repo.Storer.NewEncodedObject()
	blob.SetType(plumbing.BlobObject)
	w, _ := blob.Writer()
	_, _ = w.Write([]byte("x\n"))
	_ = w.Close()
	bh, _ := repo.Storer.SetEncodedObject(blob)
	tree := &object.Tree{Entries: []object.TreeEntry{{Name: "f", Mode: 0o100644, Hash: bh}}}
	to := repo.Storer.NewEncodedObject()
	if err := tree.Encode(to); err != nil {
		t.Fatal(err)
	}
	th, _ := repo.Storer.SetEncodedObject(to)
	sig := object.Signature{Name: "remediator", Email: "remediator@localhost", When: time.Unix(1764500000, 0).UTC()}
	c := &object.Commit{Author: sig, Committer: sig, Message: "signed\n", TreeHash: th}
	if err := SignCommit(c, k); err != nil {
		t.Fatal(err)
	}
	co := repo.Storer.NewEncodedObject()
	if err := c.Encode(co); err != nil {
		t.Fatal(err)
	}
	ch, _ := repo.Storer.SetEncodedObject(co)
	cmd := exec.Command("git", "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile="+allowed, "verify-commit", ch.String())
	cmd.Dir = repoDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git verify-commit refuses our signature: %v\n%s", err, out)
	}
	read, err := repo.CommitObject(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCommit(read, k.Public()); err != nil {
		t.Fatalf("our own signature read back: %v", err)
	}
	// A commit with the same content but another message does not carry it over.
	forged := *read
	forged.Message = "forged\n"
	if err := VerifyCommit(&forged, k.Public()); err == nil {
		t.Fatal("a changed commit kept its signature")
	}

	// git's own signature (git commit -S, gpg.format=ssh) verifies with us.
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repoDir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("-c", "gpg.format=ssh", "-c", "user.signingkey="+keyFile, "commit", "-q", "-S", "--allow-empty", "-m", "by git")
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	gc, err := repo.CommitObject(head.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCommit(gc, k.Public()); err != nil {
		t.Fatalf("git's SSH commit signature refused: %v", err)
	}
	run("commit", "-q", "--allow-empty", "-m", "unsigned")
	head, _ = repo.Head()
	uc, _ := repo.CommitObject(head.Hash())
	if err := VerifyCommit(uc, k.Public()); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned commit: %v", err)
	}
}

func TestParseAllowedSigners(t *testing.T) {
	dir := t.TempDir()
	_, f := newKey(t, dir, "k")
	pub := pubLine(t, f)
	for _, tc := range []struct {
		name, line, want string
	}{
		{"plain", "alice@example.com " + pub, ""},
		{"several principals and options", `alice@example.com,al@example.com namespaces="git,remediation-approval",valid-after="20260101" ` + pub, ""},
		{"quoted principals", `"alice@example.com,bob@example.com" ` + pub, ""},

		{"no key", "alice@example.com", "want principals, then a key"},
		{"bad key", "alice@example.com ssh-ed25519 AAAAnotakey", "key:"},
		{"bad time", `alice@example.com valid-before="tomorrow" ` + pub, "valid-before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAllowedSigners("allowed", []byte("# c\n\n"+tc.line+"\n"))
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "allowed:3:")):
				t.Fatalf("want %q at allowed:3, got %v", tc.want, err)
			}
		})
	}
}

// A line the remediator cannot honour exactly (a certificate authority, an option it
// does not implement) is named, refuses its key's signatures, and stops nobody else's.
func TestAllowedSignersLinesNotHonoured(t *testing.T) {
	dir := t.TempDir()
	ca, caFile := newKey(t, dir, "ca")
	other, otherFile := newKey(t, dir, "other")
	alice, aliceFile := newKey(t, dir, "alice")
	file := "# c\n*@example.com cert-authority " + pubLine(t, caFile) + "\n" +
		"bob@example.com frobnicate " + pubLine(t, otherFile) + "\n" +
		"alice@example.com " + pubLine(t, aliceFile) + "\n"
	as, err := ParseAllowedSigners("allowed", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(as.Refused) != 2 || !strings.Contains(as.Refused[0].String(), "allowed:2: principals \"*@example.com\": cert-authority is not accepted") ||
		!strings.Contains(as.Refused[1].String(), `allowed:3: principals "bob@example.com": unknown option "frobnicate"`) {
		t.Fatalf("refused %v", as.Refused)
	}
	msg := []byte("m")
	now := time.Now()
	for who, k := range map[string]*Key{"carol@example.com": ca, "bob@example.com": other} {
		sig, _ := k.Sign(msg, NamespaceApproval)
		if err := as.Verify(msg, sig, who, NamespaceApproval, now); err == nil || !strings.Contains(err.Error(), "is not honoured") {
			t.Errorf("%s: %v", who, err)
		}
	}
	sig, _ := alice.Sign(msg, NamespaceApproval)
	if err := as.Verify(msg, sig, "alice@example.com", NamespaceApproval, now); err != nil {
		t.Fatalf("alice, on a line of her own: %v", err)
	}
}

// One identity, one spelling: principals compare in Unicode NFC and any case; a
// pattern verifies but never names a person.
func TestIdentitiesCompareOneWay(t *testing.T) {
	if !SameIdentity("Ren\u00e9@Example.com", "rene\u0301@example.COM") || SameIdentity("lead", "lead@vendor.example") || SameIdentity("", "") {
		t.Fatal("Normalize")
	}
	dir := t.TempDir()
	k, f := newKey(t, dir, "k")
	as, err := ParseAllowedSigners("allowed", []byte("*@vendor.example,Ren\u00e9@example.com "+pubLine(t, f)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("m")
	sig, _ := k.Sign(msg, NamespaceApproval)
	if _, err := as.VerifyPerson(msg, sig, "rene\u0301@EXAMPLE.com", NamespaceApproval, time.Now()); err != nil {
		t.Fatalf("the same name spelled another way: %v", err)
	}
	if err := as.Verify(msg, sig, "x@vendor.example", NamespaceApproval, time.Now()); err != nil {
		t.Fatalf("a pattern verifies: %v", err)
	}
	if _, err := as.VerifyPerson(msg, sig, "x@vendor.example", NamespaceApproval, time.Now()); err == nil || !strings.Contains(err.Error(), "pattern principal") {
		t.Fatalf("a pattern approved as a person: %v", err)
	}
}

func TestValidityWindowsAndNegation(t *testing.T) {
	dir := t.TempDir()
	k, f := newKey(t, dir, "k")
	pub := pubLine(t, f)
	as, err := ParseAllowedSigners("allowed", []byte(`*@example.com,!mallory@example.com valid-after="20260101Z",valid-before="20270101Z" `+pub+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("m")
	sig, _ := k.Sign(msg, NamespaceApproval)
	in := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := as.Verify(msg, sig, "alice@example.com", NamespaceApproval, in); err != nil {
		t.Fatal(err)
	}
	if err := as.Verify(msg, sig, "mallory@example.com", NamespaceApproval, in); err == nil {
		t.Fatal("a negated principal was accepted")
	}
	if err := as.Verify(msg, sig, "alice@example.com", NamespaceApproval, in.AddDate(1, 0, 0)); err == nil || !strings.Contains(err.Error(), "valid only before") {
		t.Fatalf("expired key: %v", err)
	}
}

func FuzzParseAllowedSigners(f *testing.F) {
	f.Add([]byte("alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFh0d3Z1c2VyLWtleS1pbnB1dC1mb3ItZnV6emluZy0\n"))
	f.Add([]byte(`"a,b" namespaces="git" ssh-ed25519 AAAA c` + "\n# x\n"))
	f.Add([]byte(`x valid-after="20260101Z" ssh-rsa AAAA`))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := ParseAllowedSigners("f", data)
		if err != nil {
			return
		}
		for _, s := range as.Signers {
			if s.Key == nil || len(s.Principals) == 0 {
				t.Fatalf("accepted a signer without key or principals: %+v", s)
			}
		}
	})
}
