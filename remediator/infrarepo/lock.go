package infrarepo

import (
	"fmt"
	"os"
	"path/filepath"
)

// claimMirror gives this process the shared mirror under dir, or, when another
// process (serve, say, while cron runs reconcile with the same configuration) has it,
// a private one: go-git does not lock a repository's files, and two writers of one
// mirror read each other's half-written refs. release frees what was claimed.
//
// The lock is advisory and held on infra.git.lock for the life of the process's
// claim (flock on Unix, LockFileEx on Windows: see lock_unix.go, lock_windows.go);
// the kernel drops it when the process dies, so a crash never leaves it taken.
func claimMirror(dir string) (mirror string, release func() error, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", nil, fmt.Errorf("open infrastructure mirror: %w", err)
	}
	shared := filepath.Join(dir, "infra.git")
	f, err := os.OpenFile(shared+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("lock infrastructure mirror: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return "", nil, fmt.Errorf("lock infrastructure mirror: %w", err)
	}
	if held {
		return shared, func() error {
			defer f.Close()
			if err := unlock(f); err != nil {
				return fmt.Errorf("unlock infrastructure mirror: %w", err)
			}
			return nil
		}, nil
	}
	f.Close()
	private, err := os.MkdirTemp(dir, "infra-*.git")
	if err != nil {
		return "", nil, fmt.Errorf("open a private infrastructure mirror: %w", err)
	}
	return private, func() error { return os.RemoveAll(private) }, nil
}
