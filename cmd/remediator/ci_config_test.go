package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
)

// The GitHub and Gitea workflows of examples/ci write the remediator's configuration
// for their job: it loads, and it can read the catalog, another repository than the
// job's, with a token the step sets (the job's GITHUB_TOKEN reads only its own
// repository).
func TestCIWorkflowsConfigReadsTheCatalog(t *testing.T) {
	heredoc := regexp.MustCompile(`(?ms)cat > "\$RUNNER_TEMP/remediator.yaml" <<EOF\n(.*?)^\s*EOF$`)
	expr := regexp.MustCompile(`\$\{\{[^}]*\}\}`)
	server := regexp.MustCompile(`\$\{\{ *(github|gitea)\.server_url *\}\}`)
	for _, name := range []string{"apply.yml", "plan-check.yml", "gitea-apply.yml", "gitea-plan-check.yml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", name))
		if err != nil {
			t.Fatal(err)
		}
		m := heredoc.FindStringSubmatch(string(data))
		if m == nil {
			t.Fatalf("%s writes no remediator.yaml", name)
		}
		var lines []string
		for _, l := range strings.Split(m[1], "\n") {
			lines = append(lines, strings.TrimPrefix(l, "          "))
		}
		text := expr.ReplaceAllString(server.ReplaceAllString(strings.Join(lines, "\n"), "https://git.example.com"), "x")
		file := filepath.Join(t.TempDir(), "remediator.yaml")
		writeFile(t, file, text)
		cfg, err := config.Load(file)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, text)
		}
		if env := cfg.Catalog.TokenEnv; env == "" || !strings.Contains(string(data), "          "+env+": ${{ secrets.") {
			t.Errorf("%s: catalog.token_env %q is not set from a secret by the step", name, env)
		}
	}
}
