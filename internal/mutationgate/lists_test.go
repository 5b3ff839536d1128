package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

// TestRepositoryListsNameWhatExists: the repository's .mutation lists follow the
// code they measure. A package moved or a file renamed would otherwise leave a
// target mutating nothing, a floor of no target, an equivalent entry the gate only
// notices on a run that mutates its file, or a quick-skip pattern that no longer
// skips the slow test it names (each quick mutant then takes minutes).
func TestRepositoryListsNameWhatExists(t *testing.T) {
	root := testenv.ModuleRoot(t)
	dir := filepath.Join(root, ".mutation")
	targets, err := ReadTargets(filepath.Join(dir, "targets"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Target{}
	for _, tg := range targets {
		byName[tg.Name] = tg
		files := targetFiles(t, root, tg)
		if len(files) == 0 {
			t.Errorf("targets:%d: %s mutates no Go file of %s (files %s)", tg.Line, tg.Name, tg.Dir, tg.Files)
		}
		for _, name := range skipped(tg.Skip) {
			if !definesTest(t, filepath.Join(root, tg.Dir), name) {
				t.Errorf("targets:%d: %s's quick run skips %s, which no test file of %s defines", tg.Line, tg.Name, name, tg.Dir)
			}
		}
	}
	floors, err := ReadFloors(filepath.Join(dir, "floors"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range floors {
		if _, ok := byName[name]; !ok {
			t.Errorf("floors: %s is no target", name)
		}
	}
	equivalents, err := ReadEquivalents(filepath.Join(dir, "equivalent"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range equivalents {
		tg, ok := byName[e.Target]
		if !ok {
			t.Errorf("equivalent:%d: %s is no target", e.Line, e.Target)
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, tg.Dir, e.File))
		if err != nil || !regexp.MustCompile(tg.Files).MatchString(e.File) {
			t.Errorf("equivalent:%d: %s is not a mutated file of %s (%v)", e.Line, e.File, e.Target, err)
			continue
		}
		if !strings.Contains(string(data), e.Source) {
			t.Errorf("equivalent:%d: %s/%s has no line %q", e.Line, tg.Dir, e.File, e.Source)
		}
	}
}

// targetFiles are the non-test Go files of the target's package its regexp names.
func targetFiles(t *testing.T, root string, tg Target) []string {
	t.Helper()
	re, err := regexp.Compile(tg.Files)
	if err != nil {
		t.Fatalf("targets:%d: files %q: %v", tg.Line, tg.Files, err)
	}
	entries, err := os.ReadDir(filepath.Join(root, tg.Dir))
	if err != nil {
		t.Errorf("targets:%d: %s: %v", tg.Line, tg.Name, err)
		return nil
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") && re.MatchString(n) {
			out = append(out, n)
		}
	}
	return out
}

// skipped are the test names of a quick-skip pattern of the form ^(A|B)$ or ^A$.
func skipped(pattern string) []string {
	p := strings.TrimSuffix(strings.TrimPrefix(pattern, "^"), "$")
	p = strings.TrimSuffix(strings.TrimPrefix(p, "("), ")")
	if p == "" {
		return nil
	}
	return strings.Split(p, "|")
}

// definesTest says whether a test file of dir declares func name(.
func definesTest(t *testing.T, dir, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "\nfunc "+name+"(") {
			return true
		}
	}
	return false
}
