// Package signing proves who made a commit or an approval: SSH signatures in the
// format `ssh-keygen -Y sign` writes and Git verifies (gpg.format=ssh), checked
// against an allowed-signers file in Git's gpg.ssh.allowedSignersFile format.
//
// The remediator signs its own proposal and merge commits (so a head it did not make
// is never mistaken for its own), and a reviewer on a plain Git server signs an
// approval with their own key (so an approval is an identity, not a typed name).
package signing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Namespaces keep a signature made for one purpose from being replayed for another.
const (
	// NamespaceGit is what Git signs commits in.
	NamespaceGit = "git"
	// NamespaceApproval is what approvals of a proposal's head are signed in.
	NamespaceApproval = "remediation-approval"
	// NamespaceRecord is what the remediator signs its own records in: the outcome
	// and verification progress of a merge, and its intent to merge a head.
	NamespaceRecord = "remediation-record"
	// NamespaceCheck is what CI signs its check reports on the local forge in.
	NamespaceCheck = "remediation-check"
)

// Key is a private signing key.
type Key struct {
	signer ssh.Signer
}

// Public is the key's public half; nil for no key, so "signed by no key" checks fail
// closed rather than panic.
func (k *Key) Public() ssh.PublicKey {
	if k == nil {
		return nil
	}
	return k.signer.PublicKey()
}

// Fingerprint is the key's SHA256 fingerprint, as ssh-keygen -l shows it.
func (k *Key) Fingerprint() string { return ssh.FingerprintSHA256(k.signer.PublicKey()) }

// Sign signs data in a namespace and returns the armored signature
// ("-----BEGIN SSH SIGNATURE-----").
func (k *Key) Sign(data []byte, namespace string) ([]byte, error) {
	sig, err := sshsig.Sign(bytes.NewReader(data), k.signer, sshsig.HashSHA512, namespace)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sshsig.Armor(sig), nil
}

// LoadKey reads an unencrypted OpenSSH private key.
func LoadKey(file string) (*Key, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("signing key %s is encrypted: give an unencrypted key (a secret mounted for the service)", file)
		}
		return nil, fmt.Errorf("parse signing key %s: %w", file, err)
	}
	return &Key{signer: signer}, nil
}

// LoadOrCreateKey reads the key file, creating an Ed25519 key there first when it
// does not exist (mode 0600). For a remediator without a configured key: replicas
// that must merge each other's proposals share one configured key instead.
func LoadOrCreateKey(file string) (k *Key, created bool, err error) {
	if _, err := os.Stat(file); err == nil {
		k, err := LoadKey(file)
		return k, false, err
	}
	if err := GenerateKeyFile(file); err != nil {
		return nil, false, err
	}
	k, err = LoadKey(file)
	return k, err == nil, err
}

// GenerateKeyFile writes a new Ed25519 private key in OpenSSH format, and its
// public key beside it as FILE.pub, as ssh-keygen does.
func GenerateKeyFile(file string) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate signing key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "remediator")
	if err != nil {
		return fmt.Errorf("encode signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	// Written to a temporary name and renamed, so a reader never sees half a key.
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	if err := os.WriteFile(file+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// Signature is a parsed armored signature: who signed (the public key) and in what
// namespace. Verify it before believing it.
type Signature struct {
	sig *sshsig.Signature
}

// ParseSignature reads an armored SSH signature.
func ParseSignature(armored []byte) (*Signature, error) {
	sig, err := sshsig.Unarmor(bytes.TrimSpace(armored))
	if err != nil {
		return nil, fmt.Errorf("parse SSH signature: %w", err)
	}
	return &Signature{sig: sig}, nil
}

// PublicKey is the key the signature claims to be made by.
func (s *Signature) PublicKey() ssh.PublicKey { return s.sig.PublicKey }

// VerifyWith checks the signature over data in the namespace with the given key.
func (s *Signature) VerifyWith(data []byte, pub ssh.PublicKey, namespace string) error {
	if err := sshsig.Verify(bytes.NewReader(data), s.sig, pub, s.sig.HashAlgorithm, namespace); err != nil {
		return fmt.Errorf("SSH signature: %w", err)
	}
	return nil
}

// SameKey says whether two public keys are the same key.
func SameKey(a, b ssh.PublicKey) bool {
	return a != nil && b != nil && bytes.Equal(a.Marshal(), b.Marshal())
}

// LoadPublicKey reads a public key in the authorized-keys format (a FILE.pub, or a
// line of an allowed-signers file's key part), or the public half of a private key
// file: what a reader of the remediator's records needs, without its secret.
func LoadPublicKey(file string) (ssh.PublicKey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	if pub, _, _, _, err := ssh.ParseAuthorizedKey(data); err == nil {
		return pub, nil
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("parse public key %s: neither an authorized-keys line nor an unencrypted private key", file)
	}
	return signer.PublicKey(), nil
}
