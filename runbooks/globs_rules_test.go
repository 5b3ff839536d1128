package runbooks_test

import (
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// No change may touch a protected path, whatever its policy says: the defaults
// always apply, case does not matter, and a pattern naming a directory protects
// everything beneath it.
func TestRuleProtectedPathsAlwaysApply(t *testing.T) {
	for _, tc := range []struct {
		path    string
		extra   []string
		pattern string // "" when not protected
	}{
		{".github/workflows/ci.yml", nil, ".github/**"},
		{".GitHub/Workflows/ci.yml", nil, ".github/**"},
		{"docs/CODEOWNERS", nil, "**/CODEOWNERS"},
		{"CODEOWNERS", nil, "**/CODEOWNERS"},
		{".remediations/other.yaml", nil, ".remediations/**"},
		{"deploy/Jenkinsfile", []string{"deploy/"}, "**/Jenkinsfile"},
		{"secrets/prod/db.env", []string{"secrets"}, "secrets"},
		{"secrets/prod/db.env", []string{"secrets/"}, "secrets/"},
		{"Secrets/x", []string{"secrets/*"}, "secrets/*"},
		{"envs/api.auto.tfvars", []string{"secrets/"}, ""},
		{"secretsx/y", []string{"secrets"}, ""},
		{"envs/api.auto.tfvars", nil, ""},
	} {
		got, ok := runbooks.ProtectedMatch(tc.path, tc.extra)
		if ok != (tc.pattern != "") || got != tc.pattern {
			t.Errorf("ProtectedMatch(%q, %q) = %q %v, want %q", tc.path, tc.extra, got, ok, tc.pattern)
		}
	}
}
