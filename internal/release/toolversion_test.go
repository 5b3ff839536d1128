package release_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"golang.org/x/mod/modfile"
)

// `make release-check` and the release workflow run the same goreleaser: the
// version GNUmakefile names, pinned (with every dependency) by tools/goreleaser's
// go.mod, is the one the workflow asks for. A check that passes here on another
// version than the release's proves nothing about the release.
func TestGoreleaserVersionIsOneEverywhere(t *testing.T) {
	read := func(name string) string {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	m := regexp.MustCompile(`(?m)^GORELEASER_VERSION := (\S+)$`).FindStringSubmatch(read("GNUmakefile"))
	if m == nil {
		t.Fatal("GNUmakefile sets no GORELEASER_VERSION")
	}
	want := "v" + m[1]
	mod, err := modfile.Parse("tools/goreleaser/go.mod", []byte(read("tools/goreleaser/go.mod")), nil)
	if err != nil {
		t.Fatal(err)
	}
	pinned := ""
	for _, r := range mod.Require {
		if r.Mod.Path == "github.com/goreleaser/goreleaser/v2" {
			pinned = r.Mod.Version
		}
	}
	if pinned != want {
		t.Errorf("tools/goreleaser/go.mod pins goreleaser %q, GNUmakefile builds %s", pinned, want)
	}
	wf := regexp.MustCompile(`(?m)goreleaser/goreleaser-action@\S+\n\s+with:\n\s+version: "([^"]+)"`).FindStringSubmatch(read(".github/workflows/release.yml"))
	if wf == nil || "v"+wf[1] != want {
		t.Errorf("the release workflow runs goreleaser %v, GNUmakefile builds %s", wf, want)
	}
}
