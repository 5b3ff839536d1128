package release_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/release"
)

// Every release target type-checks: both binaries and every package they import,
// from source, with the target's GOOS/GOARCH build constraints (CGO off). This is
// what made the Windows build fail (syscall.Flock undefined there) and what a 32-bit
// target breaks (a constant overflowing int): the compile errors a release stops
// on, found in the time of a type check instead of the thirteen full cross-builds
// of `make release-check` (which .ci/run cannot afford; see GNUmakefile). Linking is
// left to release-check and to TestEveryReleaseTargetCompiles.
func TestEveryReleaseTargetTypeChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks every release target from source: a minute or more")
	}
	builds, err := release.Builds(filepath.Join(root, ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	targets, byTarget := release.ByTarget(builds)
	for _, target := range targets {
		// One target at a time: each load holds every package's syntax and types.
		t.Run(target.String(), func(t *testing.T) {
			var mains []string
			for _, b := range byTarget[target] {
				mains = append(mains, b.Main)
			}
			if errs := typeCheck(t, target, mains); len(errs) > 0 {
				t.Fatalf("%s does not build for %s:\n%s", strings.Join(mains, " "), target, strings.Join(errs, "\n"))
			}
		})
	}
}

// typeCheck loads the main packages and all they import from source for target and
// returns the errors, at most 20.
func typeCheck(t *testing.T, target release.Target, mains []string) []string {
	t.Helper()
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps |
			packages.NeedSyntax | packages.NeedTypes,
		Dir: root,
		Env: append(os.Environ(), target.Env()...),
	}
	pkgs, err := packages.Load(cfg, mains...)
	if err != nil {
		t.Fatalf("load %v for %s: %v", mains, target, err)
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			if len(errs) < 20 {
				errs = append(errs, fmt.Sprintf("%s: %s", p.PkgPath, e))
			}
		}
	})
	if len(pkgs) != len(mains) {
		errs = append(errs, fmt.Sprintf("loaded %d packages for %d mains", len(pkgs), len(mains)))
	}
	return errs
}
