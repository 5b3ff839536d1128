package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// cliBinary finds a CLI `make tools` built; the test fails without it.
func cliBinary(t *testing.T, name string) string { return testenv.Tool(t, name) }

const infraHCL = `variable "replicas" {
  type    = number
  default = 2
}
variable "db_tier" {
  type    = string
  default = "small"
}
variable "generation" {
  type    = number
  default = 1
}
resource "terraform_data" "api" {
  input = var.replicas
}
resource "terraform_data" "db" {
  input            = var.db_tier
  triggers_replace = [var.generation]
}
`

// realPlan applies the defaults with the real CLI, then plans the given variables and
// returns `show -json` of that plan.
func realPlan(t *testing.T, bin string, vars ...string) string {
	t.Helper()
	return realPlanOf(t, bin, map[string]string{"main.tf": infraHCL}, vars...)
}

// realPlanOf is realPlan of a configuration of its own.
func realPlanOf(t *testing.T, bin string, files map[string]string, vars ...string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}
	tf := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(context.Background(), bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_CLI_CONFIG_FILE=/dev/null")
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("%s %s: %v\n%s%s", filepath.Base(bin), strings.Join(args, " "), err, out, stderr)
		}
		return string(out)
	}
	tf("init", "-input=false", "-no-color")
	tf("apply", "-auto-approve", "-input=false", "-no-color")
	args := []string{"plan", "-input=false", "-no-color", "-out=plan.bin"}
	for _, v := range vars {
		args = append(args, "-var", v)
	}
	tf(args...)
	file := filepath.Join(dir, "plan.json")
	writeFile(t, file, tf("show", "-json", "plan.bin"))
	return file
}

func writeArtifact(t *testing.T, l artifact.Limits) string {
	t.Helper()
	a := &artifact.Artifact{ID: "scale-out-api-0011223344", Runbook: "scale-out-api", Policy: "production", Risk: "medium", Limits: l}
	data, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "artifact.yaml")
	writeFile(t, f, string(data))
	return f
}

func planCheckRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	code := run(context.Background(), append([]string{"plan-check"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestPlanCheckOnRealPlans(t *testing.T) {
	for _, cli := range []string{"terraform", "tofu"} {
		t.Run(cli, func(t *testing.T) {
			bin := cliBinary(t, cli)
			scale := realPlan(t, bin, "replicas=4")
			scaleAndDB := realPlan(t, bin, "replicas=4", "db_tier=large")
			replaceDB := realPlan(t, bin, "replicas=4", "generation=2")
			narrow := artifact.Limits{AllowedAddresses: []string{"terraform_data.api"}, AllowedActions: []string{"update"}, RunbookMaxChanges: 1}
			cases := []struct {
				name     string
				plan     string
				limits   artifact.Limits
				wantCode int
				want     []string
			}{
				{"within the limits", scale, narrow, 0, []string{"plan-check: passed", "| ✅ | `terraform_data.api` | `terraform_data` | update |"}},
				{"an undeclared resource", scaleAndDB, artifact.Limits{AllowedAddresses: []string{"terraform_data.api"}}, 1,
					[]string{"1 violation(s)", "**undeclared-resource** `terraform_data.db`: runbook scale-out-api never declared this resource"}},
				{"an action not allowed", scale, artifact.Limits{AllowedActions: []string{"create"}}, 1,
					[]string{"**action-not-allowed** `terraform_data.api`: update is not an action runbook scale-out-api allows"}},
				{"a replace the runbook forbids", replaceDB, artifact.Limits{PolicyAllowsDestroy: true}, 1,
					[]string{"| ❌ | `terraform_data.db` | `terraform_data` | replace |", "runbook scale-out-api does not allow destroys"}},
				{"a replace the policy forbids", replaceDB, artifact.Limits{RunbookAllowsDestroy: true}, 1,
					[]string{"policy production does not allow destroys"}},
				{"a replace both allow", replaceDB, artifact.Limits{RunbookAllowsDestroy: true, PolicyAllowsDestroy: true}, 0, []string{"2 resource(s) change, all within the limits"}},
				{"a denied type", scale, artifact.Limits{DeniedResourceTypes: []string{"terraform_*"}}, 1,
					[]string{"**denied-resource-type** `terraform_data.api`: policy production denies resource type terraform_data (denied_resource_types: terraform_*)"}},
				{"too many changes", scaleAndDB, artifact.Limits{PolicyMaxChanges: 1}, 1,
					[]string{"**max-changes**: 2 resources change; policy production allows at most 1 (max_changes)"}},
			}
			for _, c := range cases {
				code, out, errs := planCheckRun(t, "--plan", c.plan, "--artifact", writeArtifact(t, c.limits))
				if code != c.wantCode {
					t.Errorf("%s: exit %d, want %d\n%s%s", c.name, code, c.wantCode, out, errs)
				}
				if !strings.HasPrefix(out, "<!-- remediation:plan-check -->\n### ") {
					t.Errorf("%s: the verdict is not first:\n%s", c.name, out)
				}
				for _, w := range c.want {
					if !strings.Contains(out, w) {
						t.Errorf("%s: output lacks %q:\n%s", c.name, w, out)
					}
				}
			}

			// JSON for machines.
			code, out, _ := planCheckRun(t, "--plan", scaleAndDB, "--artifact", writeArtifact(t, narrow), "--format", "json")
			var res struct {
				Result     string `json:"result"`
				Changes    []struct{ Address, Action string }
				Violations []struct{ Rule, Address string }
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || res.Result != "fail" || len(res.Changes) != 2 || len(res.Violations) != 2 {
				t.Fatalf("json: exit %d %v %+v\n%s", code, err, res, out)
			}
		})
	}
}

func TestPlanCheckFindsTheArtifactInTheChange(t *testing.T) {
	plan := realPlan(t, cliBinary(t, "terraform"), "replicas=4", "db_tier=large")
	repo := t.TempDir()
	gittest.Run(t, repo, "init", "-q", "--initial-branch=main")
	writeFile(t, filepath.Join(repo, "main.tf"), infraHCL)
	gittest.Run(t, repo, "add", "-A")
	gittest.Run(t, repo, "commit", "-qm", "base")

	// A change that is not a remediation passes, and says why.
	gittest.Run(t, repo, "checkout", "-qb", "feature")
	writeFile(t, filepath.Join(repo, "README.md"), "x\n")
	gittest.Run(t, repo, "add", "-A")
	gittest.Run(t, repo, "commit", "-qm", "docs")
	code, out, errs := planCheckRun(t, "--plan", plan, "--repo", repo, "--base", "main")
	if code != 0 || !strings.Contains(out, "not a remediation") {
		t.Fatalf("not a remediation: exit %d\n%s%s", code, out, errs)
	}

	// A proposal branch: its artifact is found in the diff against main.
	gittest.Run(t, repo, "checkout", "-qb", "remediation/x", "main")
	data, err := os.ReadFile(writeArtifact(t, artifact.Limits{AllowedAddresses: []string{"terraform_data.api"}}))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".remediations", "scale-out-api-0011223344.yaml"), string(data))
	gittest.Run(t, repo, "add", "-A")
	gittest.Run(t, repo, "commit", "-qm", "proposal")
	code, out, _ = planCheckRun(t, "--plan", plan, "--repo", filepath.Join(repo, ".remediations"), "--base", "main")
	if code != 1 || !strings.Contains(out, "undeclared-resource") || !strings.Contains(out, "scale-out-api-0011223344") {
		t.Fatalf("proposal: exit %d\n%s", code, out)
	}
}

func TestPlanCheckBadInput(t *testing.T) {
	good := realPlan(t, cliBinary(t, "terraform"), "replicas=4")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		return p
	}
	art := writeArtifact(t, artifact.Limits{})
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no plan", []string{"--artifact", art}, "--plan is required"},
		{"truncated JSON", []string{"--plan", file("cut.json", string(data[:len(data)/2])), "--artifact", art}, "cut.json:1:"},
		{"syntax error on line 3", []string{"--plan", file("bad.json", "{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [,]\n}"), "--artifact", art}, "bad.json:3:24: malformed JSON"},
		{"a state, not a plan", []string{"--plan", file("state.json", `{"format_version":"1.0","values":{}}`), "--artifact", art}, "this is a state, not a plan"},
		{"wrong type", []string{"--plan", file("type.json", `{"format_version":"1.2","planned_values":{},"resource_changes":[{"address":1}]}`), "--artifact", art}, "resource_changes.address: want string"},
		{"unknown action", []string{"--plan", file("act.json", `{"format_version":"1.2","planned_values":{},"resource_changes":[{"address":"a.b","type":"a","change":{"actions":["explode"]}}]}`), "--artifact", art}, `unknown action "explode"`},
		{"format 2", []string{"--plan", file("v2.json", `{"format_version":"2.0","planned_values":{}}`), "--artifact", art}, `format_version: "2.0" is not supported`},
		{"bad artifact", []string{"--plan", good, "--artifact", file("a.yaml", "kind: Other\n")}, "a.yaml: decode artifact"},
		{"bad format", []string{"--plan", good, "--artifact", art, "--format", "xml"}, "--format: want markdown or json"},
		{"comment without pr", []string{"--plan", good, "--artifact", art, "--comment", "--sha", strings.Repeat("a", 40), "--config",
			file("gh.yaml", "catalog: {repository: ./c.git}\ninfrastructure: {repository: ./i.git}\nforge: {type: github, owner: acme, repository: infra, token_env: GH}\nstate_dir: ./s\n")},
			"--comment on the github forge needs --pr"},
	}
	for _, c := range cases {
		code, _, errs := planCheckRun(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, want 2 with %q: %s", c.name, code, c.want, errs)
		}
	}
}

// syntheticPlan is a plan of n updated resources, for sizes a test cannot afford to
// plan for real.
func syntheticPlan(t *testing.T, n int) string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("r%d", i)
	}
	return planOf(t, addrs...)
}

// proposalArtifactFile writes the artifact of the proposal branch of id in repo to a
// file, as CI has it in its checkout.
func proposalArtifactFile(t *testing.T, repo, id string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "artifact.yaml")
	writeFile(t, f, gittest.Run(t, repo, "show", decision.Branch(id)+":"+artifact.Path(id))+"\n")
	return f
}

// planOf is a plan updating terraform_data resources of the given names.
func planOf(t *testing.T, names ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"format_version":"1.2","terraform_version":"1.8.5","planned_values":{},"resource_changes":[`)
	for i, n := range names {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"address":"terraform_data.%s","mode":"managed","type":"terraform_data","name":"%s","change":{"actions":["update"]}}`, n, n)
	}
	b.WriteString("]}")
	f := filepath.Join(t.TempDir(), "plan.json")
	writeFile(t, f, b.String())
	return f
}

func TestPlanCheckComment(t *testing.T) {
	cfg, srv, bare := githubSetup(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Plan.AllowedAddresses = []string{"terraform_data.r1*"}
	})
	if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
		t.Fatal(errs)
	}
	pr := srv.PullRequests("acme", "infra")[0]
	art := proposalArtifactFile(t, bare, decision.ID("scale-out-api", "service=api-gateway"))

	// A large failing plan: the report is split across comments, fences intact.
	code, _, errs := planCheckRun(t, "--plan", syntheticPlan(t, 3000), "--artifact", art, "--comment", "--config", cfg, "--pr", fmt.Sprint(pr.Number), "--sha", pr.HeadSHA)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	comments := srv.PullRequests("acme", "infra")[0].Comments
	if len(comments) < 2 {
		t.Fatalf("%d comments: the report was not split", len(comments))
	}
	for i, c := range comments {
		if !strings.HasPrefix(c, "<!-- remediation:plan-check -->") || len([]rune(c)) > 65536 {
			t.Errorf("part %d: no marker or too long (%d)", i, len([]rune(c)))
		}
	}
	st := srv.Statuses("acme", "infra")
	if len(st) != 1 || st[0].SHA != pr.HeadSHA || st[0].Context != "remediation/plan-check" || st[0].State != "failure" {
		t.Fatalf("status %+v", st)
	}

	// Fixed: the same comments are reused, the surplus deleted, the status green.
	code, _, errs = planCheckRun(t, "--plan", planOf(t, "r1", "r12"), "--artifact", art, "--comment", "--config", cfg, "--pr", fmt.Sprint(pr.Number), "--sha", pr.HeadSHA)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	comments = srv.PullRequests("acme", "infra")[0].Comments
	if len(comments) != 1 || !strings.Contains(comments[0], "plan-check: passed") {
		t.Fatalf("after the fix: %d comments: %q", len(comments), comments)
	}
	if st := srv.Statuses("acme", "infra"); st[len(st)-1].State != "success" {
		t.Fatalf("status %+v", st)
	}
}

// countHCL has instances with keys: count on a resource, for_each on a module.
var countHCL = map[string]string{
	"main.tf": `variable "workers" {
  type    = number
  default = 2
}
variable "regions" {
  type    = list(string)
  default = ["eu"]
}
variable "db_suffix" {
  type    = string
  default = ""
}
resource "terraform_data" "worker" {
  count = var.workers
  input = count.index
}
module "db" {
  source   = "./db"
  for_each = toset(var.regions)
  region   = each.key
  suffix   = var.db_suffix
}
`,
	"db/main.tf": `variable "region" {
  type = string
}
variable "suffix" {
  type = string
}
resource "terraform_data" "instance" {
  input = "${var.region}${var.suffix}"
}
`,
}

// plan-check judges by the catalog: Terraform's index syntax in the runbook's
// patterns matches count and for_each instances of real plans, and an artifact that
// claims wider limits widens nothing.
func TestPlanCheckAgainstTheCatalogOnCountAndForEach(t *testing.T) {
	cfg := publishedCatalogWith(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Plan.AllowedAddresses = []string{"terraform_data.worker[*]", `module.db["us"].terraform_data.*`}
	})
	infra := infraRepo(t, cfg)
	if code, out, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("%s %s", out, errs)
	}
	id := decision.ID("scale-out-api", "service=api-gateway")
	art := proposalArtifactFile(t, infra, id)
	for _, cli := range []string{"terraform", "tofu"} {
		t.Run(cli, func(t *testing.T) {
			bin := cliBinary(t, cli)
			within := realPlanOf(t, bin, countHCL, "workers=3", `regions=["eu","us"]`)
			code, out, errs := planCheckRun(t, "--plan", within, "--artifact", art, "--config", cfg)
			if code != 0 || !strings.Contains(out, "`terraform_data.worker[2]`") || !strings.Contains(out, "`module.db[\"us\"].terraform_data.instance`") {
				t.Fatalf("count and for_each instances within the patterns: exit %d\n%s%s", code, out, errs)
			}
			// A plan that also touches the eu database goes beyond module.db["us"].
			beyond := realPlanOf(t, bin, countHCL, `regions=["eu","us"]`, "db_suffix=-2")
			code, out, _ = planCheckRun(t, "--plan", beyond, "--artifact", art, "--config", cfg)
			if code != 1 || !strings.Contains(out, "**undeclared-resource** `module.db[\"eu\"].terraform_data.instance`") {
				t.Fatalf("the eu instance passed: exit %d\n%s", code, out)
			}
		})
	}
	// The artifact widened by hand: the catalog's limits are checked all the same,
	// and the disagreement is a violation of its own.
	a, err := artifact.Decode([]byte(gittest.Run(t, infra, "show", decision.Branch(id)+":"+artifact.Path(id)) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	a.Limits.AllowedAddresses = []string{"**.*"}
	data, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	wide := filepath.Join(t.TempDir(), "wide.yaml")
	writeFile(t, wide, string(data))
	plan := planOf(t, "unrelated")
	code, out, _ := planCheckRun(t, "--plan", plan, "--artifact", wide, "--config", cfg)
	if code != 1 || !strings.Contains(out, "**catalog-mismatch**: the artifact disagrees with the catalog (plan_limits is") ||
		!strings.Contains(out, "**undeclared-resource** `terraform_data.unrelated`") {
		t.Fatalf("a widened artifact widened the check: exit %d\n%s", code, out)
	}
	// --catalog names the catalog without a configuration.
	code, out, _ = planCheckRun(t, "--plan", plan, "--artifact", wide, "--catalog", filepath.Join(filepath.Dir(cfg), "catalog.git"))
	if code != 1 || !strings.Contains(out, "catalog-mismatch") {
		t.Fatalf("--catalog: exit %d\n%s", code, out)
	}
	// Without a catalog the artifact's limits are shown, marked unchecked.
	if _, out, _ := planCheckRun(t, "--plan", plan, "--artifact", wide); !strings.Contains(out, "not checked against the catalog") {
		t.Fatalf("no catalog: %s", out)
	}
}
