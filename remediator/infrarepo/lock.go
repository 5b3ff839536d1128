package infrarepo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// claimMirror gives this process the shared mirror under dir, or, when another
// process (serve, say, while cron runs reconcile with the same configuration) has it,
// a private one: go-git does not lock a repository's files, and two writers of one
// mirror read each other's half-written refs. release frees what was claimed.
func claimMirror(dir string) (mirror string, release func() error, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", nil, fmt.Errorf("open infrastructure mirror: %w", err)
	}
	shared := filepath.Join(dir, "infra.git")
	f, err := os.OpenFile(shared+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("lock infrastructure mirror: %w", err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return shared, func() error {
			defer f.Close()
			return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		}, nil
	}
	f.Close()
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return "", nil, fmt.Errorf("lock infrastructure mirror: %w", err)
	}
	private, err := os.MkdirTemp(dir, "infra-*.git")
	if err != nil {
		return "", nil, fmt.Errorf("open a private infrastructure mirror: %w", err)
	}
	return private, func() error { return os.RemoveAll(private) }, nil
}
