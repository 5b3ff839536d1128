package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// testProviders serves the provider in-process to the Terraform or OpenTofu binary
// named by TF_ACC_TERRAFORM_PATH.
var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"remediation": providerserver.NewProtocol6WithError(New("test")()),
}

// catalogRepo is an empty bare repository, as a user's Git server would hold.
func catalogRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "catalog.git")
	gitRun(t, "", "init", "-q", "--bare", "--initial-branch=main", dir)
	return dir
}

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitOutput(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func gitOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Out Of Band", "GIT_AUTHOR_EMAIL=oob@localhost",
		"GIT_COMMITTER_NAME=Out Of Band", "GIT_COMMITTER_EMAIL=oob@localhost", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// editInGit changes the catalog behind Terraform's back, as a person with push
// access would: clone, edit, commit, push.
func editInGit(t *testing.T, repo, msg string, edit func(work string)) {
	t.Helper()
	work := t.TempDir()
	gitRun(t, "", "clone", "-q", repo, work)
	edit(work)
	gitRun(t, work, "add", "-A")
	gitRun(t, work, "commit", "-qm", msg)
	gitRun(t, work, "push", "-q", "origin", "HEAD:main")
}

// checkGitFile asserts on a catalog file as pushed to the repository.
func checkGitFile(repo, file string, want ...string) func(*terraform.State) error {
	return func(*terraform.State) error {
		out, err := gitOutput(repo, "show", "main:"+file)
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
		out, err := gitOutput(repo, "log", "-1", "--format=%s", "main")
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
