package remediator

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

const module = "github.com/gitops-remediation/terraform-provider-remediation"

// layers is the dependency order ARCHITECTURE.md states, from the bottom up: a
// package imports only packages of lower layers. A package missing from it fails
// the test, so a new one is placed on purpose.
var layers = [][]string{
	{"internal/strictyaml", "internal/gittree", "internal/gitauth", "remediator/signing", "remediator/tracing"},
	{"runbooks", "internal/gitpush"},
	{"remediator/artifact", "remediator/decision", "remediator/edits", "remediator/bounds", "runbooks/catalogstore"},
	{"remediator/intake", "remediator/forge", "remediator/infrarepo", "remediator/plancheck", "remediator/config"},
	{"remediator/forge/forgehttp"},
	{"remediator/queue", "remediator/verify", "remediator/records", "remediator/replay", "remediator/forge/github", "remediator/forge/gitea", "remediator/forge/gitlab"},
	{"remediator/lifecycle", "remediator/forge/local", "remediator/propose", "remediator/audit"},
	{"remediator/status", "remediator/notify", "remediator/worker", "remediator/server"},
	{"remediator/daemon"},
	{"provider", "cmd/remediator"},
	{"."}, // the provider's plugin server
}

// Test-only and tooling packages: outside the product's order.
var outside = []string{"remediator", "internal/benchratio", "internal/fakegithub", "internal/fakegitlab", "internal/giteatest", "internal/gittest", "internal/mutationgate",
	"internal/infratest", "internal/ociimage", "internal/release", "internal/configdoc", "internal/testenv", "deploy", "examples", "tools", "scripts"}

// TestImportsRunOneWay: every product package imports only packages below it in the
// order ARCHITECTURE.md states (the worker and the daemon never import the HTTP
// server, the record readers never import the loops, ...).
func TestImportsRunOneWay(t *testing.T) {
	root := testenv.ModuleRoot(t)
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	layer := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			layer[p] = i
		}
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, ":")
		pkg := rel(path)
		if isOutside(pkg) {
			continue
		}
		mine, ok := layer[pkg]
		if !ok {
			t.Errorf("package %s has no place in the dependency order: add it to ARCHITECTURE.md and layers", pkg)
			continue
		}
		checked++
		for _, imp := range strings.Fields(imports) {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := rel(imp)
			if theirs, ok := layer[dep]; ok && theirs >= mine {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports run from lower layers up only", pkg, mine+1, dep, theirs+1)
			}
		}
	}
	if checked < 30 {
		t.Fatalf("checked %d packages: go list found too few", checked)
	}
}

func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

// isOutside: the package is one of outside or beneath one (beneath "remediator"
// lies the product itself).
func isOutside(pkg string) bool {
	for _, o := range outside {
		if pkg == o || (o != "remediator" && strings.HasPrefix(pkg, o+"/")) {
			return true
		}
	}
	return false
}
