//go:build !linux

package queue

import "os"

// fdatasync is a full fsync where the system has no fdatasync (macOS's fsync is
// what it offers; F_FULLFSYNC is stronger than the queue needs).
func fdatasync(f *os.File) error { return f.Sync() }
