package release_test

import (
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/release"
)

// root is the module's root, where .goreleaser.yml is.
const root = "../.."

// Every binary builds for every target the release configuration names, and what
// comes out is an executable for that target: a release stops at its first failed
// build, so one package that does not build on one target publishes nothing.
// The flags and environment are the release's (-trimpath, CGO_ENABLED=0, goreleaser's
// GOARM), so this test and `make release-check` compile each package once between
// them: release-check runs goreleaser first, and this test then only links.
func TestEveryReleaseTargetCompiles(t *testing.T) {
	// Every target compiled cold is tens of minutes on two cores: more than the whole
	// test suite. `make release-check` sets this after goreleaser's own builds have
	// filled the build cache, so here it only links. .ci/run has the type check of
	// every target instead (TestEveryReleaseTargetTypeChecks).
	if os.Getenv("REMEDIATOR_RELEASE_TARGETS") == "" {
		t.Skip("set REMEDIATOR_RELEASE_TARGETS=1 (make release-check does) to cross-compile every release target")
	}
	builds, err := release.Builds(filepath.Join(root, ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(builds) < 2 {
		t.Fatalf("release configuration has %d builds, want the provider and the remediator", len(builds))
	}
	targets, byTarget := release.ByTarget(builds)
	for _, target := range targets {
		t.Run(target.String(), func(t *testing.T) {
			t.Parallel() // at most GOMAXPROCS at once (go test's -parallel)
			out := t.TempDir()
			args := []string{"build", "-trimpath", "-o", out + string(filepath.Separator)}
			for _, b := range byTarget[target] {
				args = append(args, b.Main)
			}
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), target.Env()...)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go %v for %s: %v\n%s", args, target, err, msg)
			}
			entries, err := os.ReadDir(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(byTarget[target]) {
				t.Fatalf("built %d binaries for %s, want %d", len(entries), target, len(byTarget[target]))
			}
			for _, e := range entries {
				if err := isExecutableFor(filepath.Join(out, e.Name()), target); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// isExecutableFor reads the binary's header: its format must be the target OS's and
// its machine the target architecture's.
func isExecutableFor(path string, target release.Target) error {
	got, err := executableTarget(path)
	if err != nil {
		return fmt.Errorf("read built binary: %w", err)
	}
	if got != target {
		return fmt.Errorf("%s is built for %s, want %s", filepath.Base(path), got, target)
	}
	return nil
}

func executableTarget(path string) (release.Target, error) {
	if f, err := elf.Open(path); err == nil {
		defer f.Close()
		goos := "linux"
		if f.OSABI == elf.ELFOSABI_FREEBSD {
			goos = "freebsd"
		}
		arch := map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_ARM: "arm", elf.EM_386: "386"}[f.Machine]
		return release.Target{GOOS: goos, GOARCH: arch}, nil
	}
	if f, err := macho.Open(path); err == nil {
		defer f.Close()
		arch := map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64"}[f.Cpu]
		return release.Target{GOOS: "darwin", GOARCH: arch}, nil
	}
	f, err := pe.Open(path)
	if err != nil {
		return release.Target{}, fmt.Errorf("%s is neither ELF, Mach-O nor PE: %w", path, err)
	}
	defer f.Close()
	arch := map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64", pe.IMAGE_FILE_MACHINE_I386: "386"}[f.Machine]
	return release.Target{GOOS: "windows", GOARCH: arch}, nil
}
