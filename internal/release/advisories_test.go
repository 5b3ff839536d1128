package release_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/release"
)

// No module the project knows to be vulnerable is in the build, in the module or in
// the tools' modules built from source.
func TestNoKnownVulnerableModule(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "tools", "*", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, gomod := range append([]string{filepath.Join(root, "go.mod")}, files...) {
		raw, err := os.ReadFile(gomod)
		if err != nil {
			t.Fatal(err)
		}
		findings, err := release.Vulnerable(gomod, raw, release.KnownVulnerable)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range findings {
			t.Errorf("%s requires %s: update it", gomod, f)
		}
	}
}

func TestVulnerableFindsWhatComesBack(t *testing.T) {
	tests := []struct {
		name string
		mod  string
		want []string
	}{
		{"the jwt the issue found", "module m\nrequire github.com/golang-jwt/jwt/v4 v4.5.0 // indirect\n", []string{"github.com/golang-jwt/jwt/v4 v4.5.0"}},
		{"fixed", "module m\nrequire github.com/golang-jwt/jwt/v4 v4.5.2\n", nil},
		{"newer", "module m\nrequire golang.org/x/crypto v0.59.0\n", nil},
		{"pseudo-version before the fix", "module m\nrequire golang.org/x/net v0.0.0-20240101000000-abcdefabcdef\n", []string{"golang.org/x/net v0.0.0-"}},
		{"unrelated module", "module m\nrequire example.com/jwt v1.0.0\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := release.Vulnerable("go.mod", []byte(tt.mod), release.KnownVulnerable)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("findings %v, want %v", got, tt.want)
			}
			for i, f := range got {
				if !strings.HasPrefix(f.String(), tt.want[i]) {
					t.Errorf("finding %q, want one starting %q", f, tt.want[i])
				}
			}
		})
	}
	if _, err := release.Vulnerable("go.mod", []byte("module m\nrequire (\n"), release.KnownVulnerable); err == nil {
		t.Error("a broken go.mod is accepted")
	}
}
