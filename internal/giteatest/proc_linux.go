package giteatest

import "syscall"

// dieWithParent stops Gitea when the test binary dies without calling Stop (a
// test's timeout panics past TestMain's deferred Stop).
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
