package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// ciFixture is a remediation branch checked out as CI sees it, with the tools CI
// has on its PATH, and the configuration whose catalog says what the plan may do.
type ciFixture struct {
	checkout, path string
	goodConfig     string // the catalog allows the change
	badConfig      string // the catalog allows another resource only
}

// newCIFixture publishes a runbook that sets replicas in envs/prod, proposes it for
// api-gateway on an infrastructure repository whose main was applied, and checks
// the proposal branch out.
func newCIFixture(t *testing.T) ciFixture {
	t.Helper()
	limits := func(addresses ...string) func(*runbooks.Runbook, *runbooks.Policy) {
		return func(rb *runbooks.Runbook, _ *runbooks.Policy) {
			rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/prod/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current * 2"}}
			rb.Spec.Plan = runbooks.RunbookPlan{AllowedAddresses: addresses, AllowedActions: []string{"update"}, MaxChanges: 1}
		}
	}
	cfg := publishedCatalogWith(t, limits("terraform_data.replicas"))
	other := publishedCatalogWith(t, limits("terraform_data.other"))
	bad := filepath.Join(filepath.Dir(cfg), "bad.yaml")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, bad, strings.Replace(string(data), "repository: ./catalog.git", "repository: "+filepath.Join(filepath.Dir(other), "catalog.git"), 1))

	infra := filepath.Join(filepath.Dir(cfg), "infra.git")
	gittest.Run(t, "", "init", "-q", "--bare", "--initial-branch=main", infra)
	seed := t.TempDir()
	gittest.Run(t, "", "clone", "-q", infra, seed)
	writeFile(t, filepath.Join(seed, "envs/prod/main.tf"), "variable \"replicas\" {\n  type = number\n}\n\nresource \"terraform_data\" \"replicas\" {\n  input = var.replicas\n}\n")
	writeFile(t, filepath.Join(seed, "envs/prod/api-gateway.auto.tfvars"), "replicas = 4\n")
	gittest.Run(t, seed, "add", "-A")
	gittest.Run(t, seed, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "prod")
	gittest.Run(t, seed, "push", "-q", "origin", "HEAD:main")
	if code, out, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}

	// CI's tools: this remediator, and terraform.
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "remediator"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build remediator: %v\n%s", err, out)
	}
	tf := cliBinary(t, "terraform")
	path := bin + string(os.PathListSeparator) + filepath.Dir(tf) + string(os.PathListSeparator) + os.Getenv("PATH")
	if filepath.Base(tf) != "terraform" {
		t.Fatalf("terraform binary named %s", tf)
	}

	// main is applied; CI then checks out the proposal.
	checkout := filepath.Join(t.TempDir(), "infra")
	gittest.Run(t, "", "clone", "-q", infra, checkout)
	shell(t, filepath.Join(checkout, "envs/prod"), []string{"PATH=" + path}, "terraform init -input=false -no-color >/dev/null && terraform apply -input=false -auto-approve -no-color >/dev/null")
	gittest.Run(t, checkout, "checkout", "-q", decision.Branch(decision.ID("scale-out-api", "service=api-gateway")))
	return ciFixture{checkout: checkout, path: path, goodConfig: cfg, badConfig: bad}
}

// shell runs a script with bash -e in dir, with env added, and returns its output
// and whether it succeeded.
func shell(t *testing.T, dir string, env []string, script string) string {
	t.Helper()
	out, err := shellResult(dir, env, script)
	if err != nil {
		t.Fatalf("%s\n%v\n%s", script, err, out)
	}
	return out
}

func shellResult(dir string, env []string, script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-eo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_CLI_CONFIG_FILE=/dev/null"), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The Atlantis workflow's plan steps, run as Atlantis runs them (built-in init and
// plan, then each run step in a shell, in the project's directory with Atlantis's
// variables), pass a remediation within its limits and fail one beyond them.
func TestAtlantisExample(t *testing.T) {
	var repo struct {
		Projects []struct {
			Dir      string `yaml:"dir"`
			Workflow string `yaml:"workflow"`
		} `yaml:"projects"`
		Workflows map[string]struct {
			Plan struct {
				Steps []yaml.Node `yaml:"steps"`
			} `yaml:"plan"`
		} `yaml:"workflows"`
	}
	readExampleYAML(t, "atlantis.yaml", &repo)
	if len(repo.Projects) != 1 {
		t.Fatalf("projects: %+v", repo.Projects)
	}
	p := repo.Projects[0]
	var script []string
	for _, step := range repo.Workflows[p.Workflow].Plan.Steps {
		switch {
		case step.Kind == yaml.ScalarNode && step.Value == "init":
			script = append(script, "terraform init -input=false -no-color")
		case step.Kind == yaml.ScalarNode && step.Value == "plan":
			script = append(script, `terraform plan -input=false -no-color -out "$PLANFILE"`)
		case step.Kind == yaml.MappingNode && len(step.Content) == 2 && step.Content[0].Value == "run":
			script = append(script, step.Content[1].Value)
		default:
			t.Fatalf("a step the test does not know: %+v", step)
		}
	}
	f := newCIFixture(t)
	dir := filepath.Join(f.checkout, p.Dir)
	env := func(cfg string) []string {
		return []string{"PATH=" + f.path, "PLANFILE=" + filepath.Join(dir, "prod.tfplan"), "SHOWFILE=" + filepath.Join(dir, "prod.json"),
			"BASE_BRANCH_NAME=main", "REMEDIATOR_CONFIG=" + cfg, "DIR=" + dir, "PROJECT_NAME=" + p.Dir}
	}
	out := shell(t, dir, env(f.goodConfig), strings.Join(script, "\n"))
	if !strings.Contains(out, "scale-out-api") || !strings.Contains(out, "terraform_data.replicas") {
		t.Fatalf("the plan check did not report the remediation:\n%s", out)
	}
	out, err := shellResult(dir, env(f.badConfig), strings.Join(script, "\n"))
	if err == nil || !strings.Contains(out, "terraform_data.replicas") {
		t.Fatalf("a plan beyond the catalog's limits passed Atlantis's plan: %v\n%s", err, out)
	}
}

func readExampleYAML(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
