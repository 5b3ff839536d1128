package remediator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

// Test files may build a forge as a fixture; no product file outside the owners
// names GitHub's, Gitea's or GitLab's types.

// forgeOwners may name a forge package's types: the forge itself and the wiring
// that builds one from forge.type.
var forgeOwners = []string{"cmd/remediator"}

// TestNoForgeTypeNamedOutsideItsPackage: a forge's concrete types (github.Forge,
// gitea.Forge, ...) are named only in their own package and in cmd/remediator's
// wiring; everything else reaches a forge through the forge.Forge seam, so a new
// forge needs no new type assertions anywhere.
func TestNoForgeTypeNamedOutsideItsPackage(t *testing.T) {
	root := testenv.ModuleRoot(t)
	forges := forgePackages(t, root)
	if len(forges) < 2 {
		t.Fatalf("found %d forge packages under remediator/forge: the scan is broken", len(forges))
	}
	fset := token.NewFileSet()
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "tools") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		dir = filepath.ToSlash(dir)
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			pkgPath, _ := strconv.Unquote(imp.Path.Value)
			types, ok := forges[pkgPath]
			if !ok || dir == strings.TrimPrefix(pkgPath, module+"/") || owner(dir) {
				continue
			}
			if strings.HasSuffix(path, "_test.go") {
				// A test builds the forge its case needs as a fixture (the local forge,
				// or GitHub's on its test server); the product never names one.
				continue
			}
			name := filepath.Base(pkgPath)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			found += namedTypes(t, fset, f, name, types)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found > 0 {
		t.Fatalf("%d use(s) of a forge's concrete type outside its package and cmd/remediator: use forge.Forge / forge.PullRequests", found)
	}
}

func owner(dir string) bool {
	for _, o := range forgeOwners {
		if dir == o || strings.HasPrefix(dir, o+"/") {
			return true
		}
	}
	return false
}

// namedTypes reports each selector pkg.T of f where T is one of types.
func namedTypes(t *testing.T, fset *token.FileSet, f *ast.File, pkg string, types map[string]bool) int {
	t.Helper()
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		sel, ok := node.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg && types[sel.Sel.Name] {
			t.Errorf("%s: names %s.%s", fset.Position(sel.Pos()), pkg, sel.Sel.Name)
			n++
		}
		return true
	})
	return n
}

// forgePackages maps each forge package's import path (remediator/forge/<name>) to
// the exported types it declares.
func forgePackages(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "remediator", "forge"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "forgehttp" {
			continue // forgehttp is the forges' shared retry policy, not a forge
		}
		dir := filepath.Join(root, "remediator", "forge", e.Name())
		files := parseSources(t, fset, dir)
		types := map[string]bool{}
		for _, f := range files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.TYPE {
					continue
				}
				for _, s := range g.Specs {
					if ts := s.(*ast.TypeSpec); ts.Name.IsExported() {
						types[ts.Name.Name] = true
					}
				}
			}
		}
		out[module+"/remediator/forge/"+e.Name()] = types
	}
	return out
}

// TestLifecycleDiscoversNoForgeAbility: the lifecycle (the reconcile engine and the
// record model it reads, package records) learns what a forge can do from
// forge.Forge's declaration, never by asserting a forge value to an interface.
func TestLifecycleDiscoversNoForgeAbility(t *testing.T) {
	root := testenv.ModuleRoot(t)
	abilities := map[string]bool{"Opener": true, "Reporter": true, "Closer": true, "Facts": true, "ProvenanceReporter": true,
		"Superseder": true, "OpenLister": true, "PullRequests": true}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, pkg := range []string{"lifecycle", "records"} {
		files = append(files, parseSources(t, fset, filepath.Join(root, "remediator", pkg))...)
	}
	for _, f := range files {
		ast.Inspect(f, func(node ast.Node) bool {
			ta, ok := node.(*ast.TypeAssertExpr)
			if !ok || ta.Type == nil {
				return true
			}
			switch typ := ta.Type.(type) {
			case *ast.Ident:
				if abilities[typ.Name] {
					t.Errorf("%s: asserts a forge ability (%s): declare it on forge.Forge instead", fset.Position(ta.Pos()), typ.Name)
				}
			case *ast.SelectorExpr:
				if id, ok := typ.X.(*ast.Ident); ok && id.Name == "forge" {
					t.Errorf("%s: asserts forge.%s: declare it on forge.Forge instead", fset.Position(ta.Pos()), typ.Sel.Name)
				}
			}
			return true
		})
	}
}

// parseSources parses the non-test Go files of dir.
func parseSources(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*ast.File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return out
}
