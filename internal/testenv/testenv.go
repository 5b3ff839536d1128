// Package testenv finds what tests need outside the package: the module root, the
// tools `make tools` built into .tools, and a remediator binary for tests that run it
// as a process.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ModuleRoot is the directory holding go.mod, found upwards from the test's directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Tool is a binary `make tools` (or `make bench-tools`) built into .tools/bin; the
// test fails when it is missing, never skips.
func Tool(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(ModuleRoot(t), ".tools", "bin", name)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is not built: run `make tools` (or `make bench-tools`): %v", name, err)
	}
	return bin
}

// Remediator builds the remediator command into a temporary directory.
func Remediator(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "remediator")
	build := exec.CommandContext(context.Background(), "go", "build", "-o", bin, "./cmd/remediator")
	build.Dir = ModuleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build remediator: %v\n%s", err, out)
	}
	return bin
}
