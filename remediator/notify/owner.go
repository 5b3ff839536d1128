package notify

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ownerFile holds the name this state directory claims events under: one per
// replica, since each replica has its own outboxes, and kept across restarts, since
// a replica that restarts must find the claims it made before it died.
const ownerFile = "owner"

// ownerOf reads the owner name of the notification directory dir, making one the
// first time. Two processes making it at once agree: the first link wins.
func ownerOf(dir string) (string, error) {
	path := filepath.Join(dir, ownerFile)
	if name, err := readOwner(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return name, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("make notification owner: %w", err)
	}
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make notification owner: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ownerFile+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("make notification owner: %w", err)
	}
	_, err = tmp.WriteString("r-" + hex.EncodeToString(b) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	_ = os.Remove(tmp.Name())
	if err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("make notification owner: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // the name survives a crash
		_ = d.Sync()
		_ = d.Close()
	}
	return readOwner(path)
}

func readOwner(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read notification owner: %w", err)
	}
	name := strings.TrimSpace(string(data))
	if !validName(name) || name == historyOwner {
		return "", fmt.Errorf("read notification owner: %s holds %q, not a replica's name of [a-z0-9_-]", path, name)
	}
	return name, nil
}
