package queue

import (
	"errors"
	"os"
	"syscall"
)

// fdatasync flushes a file's data (and the size an append changed) without the
// metadata an append does not need.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
