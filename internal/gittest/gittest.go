// Package gittest runs the git CLI for tests: the independent party that makes the
// repositories our code reads and checks what our code wrote.
package gittest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Output runs git in dir with a fixed identity and no user configuration; a command
// that hangs is killed after two minutes.
func Output(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Out Of Band", "GIT_AUTHOR_EMAIL=oob@localhost",
		"GIT_COMMITTER_NAME=Out Of Band", "GIT_COMMITTER_EMAIL=oob@localhost", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Run is Output that fails the test on error.
func Run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := Output(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// BareRepo makes an empty bare repository with branch main, as a Git server holds.
func BareRepo(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo.git")
	Run(t, "", "init", "-q", "--bare", "--initial-branch=main", dir)
	return dir
}

// WriteFile writes a file, making its directories.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Hook installs an executable hook script (after a #!/bin/sh line) in a bare
// repository's hooks directory.
func Hook(t testing.TB, repo, name, script string) {
	t.Helper()
	p := filepath.Join(repo, "hooks", name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil { //nolint:gosec // a hook must be executable
		t.Fatal(err)
	}
}
