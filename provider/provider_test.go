package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// testProviders serves the provider in-process to the Terraform or OpenTofu binary
// named by TF_ACC_TERRAFORM_PATH.
var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"remediation": providerserver.NewProtocol6WithError(New("test")()),
}

// editInGit changes the catalog behind Terraform's back, as a person with push
// access would: clone, edit, commit, push.
func editInGit(t *testing.T, repo, msg string, edit func(work string)) {
	t.Helper()
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", repo, work)
	edit(work)
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", msg)
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:main")
}

// checkGitFile asserts on a catalog file as pushed to the repository.
func checkGitFile(repo, file string, want ...string) func(*terraform.State) error {
	return func(*terraform.State) error {
		out, err := gittest.Output(repo, "show", "main:"+file)
		if err != nil {
			return fmt.Errorf("%s is not on main: %s", file, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				return fmt.Errorf("%s does not contain %q:\n%s", file, w, out)
			}
		}
		return nil
	}
}

// checkLastCommit asserts on the subject of the newest commit on main.
func checkLastCommit(repo, subject string) func(*terraform.State) error {
	return func(*terraform.State) error {
		out, err := gittest.Output(repo, "log", "-1", "--format=%s", "main")
		if err != nil || out != subject {
			return fmt.Errorf("last commit %q (%w), want %q", out, err, subject)
		}
		return nil
	}
}

func providerBlock(repo string) string {
	return fmt.Sprintf(`
provider "remediation" {
  repository = %q
  author = {
    name  = "Catalog CI"
    email = "catalog-ci@localhost"
  }
}
`, repo)
}
