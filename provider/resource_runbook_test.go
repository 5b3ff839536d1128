package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func runbookConfig(repo, risk, extra string) string {
	return providerBlock(repo) + fmt.Sprintf(`
resource "remediation_runbook" "scale" {
  name        = "scale-out-api"
  description = "Double the replicas of an API service under high latency."
  risk        = %q
  owners      = ["team-api"]
  trigger = {
    matchers  = ["alertname=\"HighLatency\"", "service=~\"api-.*\""]
    condition = "value > 0.5"
    group_by  = ["service"]
  }
  changes = [{
    kind  = "hcl"
    file  = "envs/prod/{{ .labels.service }}.auto.tfvars"
    path  = "replicas"
    value = "math.least(current * 2, 20)"
  }]
  cooldown = "1h"
  %s
}
`, risk, extra)
}

func TestAccRunbookResource(t *testing.T) {
	repo := gittest.BareRepo(t)
	addr := "remediation_runbook.scale"
	file := "catalog/runbooks/scale-out-api.yaml"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: runbookConfig(repo, "medium", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact("scale-out-api")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("risk"), knownvalue.StringExact("medium")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("rollback"), knownvalue.StringExact("revert")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("verify").AtMapKey("within"), knownvalue.StringExact("15m")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("verify").AtMapKey("alert_resolved"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("plan").AtMapKey("allow_destroy"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("file"), knownvalue.StringExact(file)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("changes").AtSliceIndex(0).AtMapKey("within"), knownvalue.Null()),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkGitFile(repo, file, "kind: Runbook", "  name: scale-out-api", "risk: medium", `- service=~"api-.*"`, "value: math.least(current * 2, 20)", "cooldown: 1h"),
					checkLastCommit(repo, "runbook: add scale-out-api"),
				),
			},
			{
				// Update: a new risk, a plan block and a non-canonical duration spelling.
				Config: runbookConfig(repo, "high", `
  plan = {
    allowed_addresses = ["module.api.aws_autoscaling_group.*"]
    allowed_actions   = ["update"]
    max_changes       = 2
  }
  verify = {
    within = "90m"
    promql = "histogram_quantile(0.99, rate(http_duration_seconds_bucket[5m])) < 0.5"
  }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("risk"), knownvalue.StringExact("high")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("verify").AtMapKey("within"), knownvalue.StringExact("90m")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("plan").AtMapKey("max_changes"), knownvalue.Int64Exact(2)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					// The catalog holds the canonical spelling.
					checkGitFile(repo, file, "risk: high", "within: 1h30m", "max_changes: 2"),
					checkLastCommit(repo, "runbook: update scale-out-api"),
				),
			},
			{
				// The spelling "90m" against the stored "1h30m" is no change.
				Config:   runbookConfig(repo, "high", `verify = { within = "90m", promql = "histogram_quantile(0.99, rate(http_duration_seconds_bucket[5m])) < 0.5" }`+"\n"+`plan = { allowed_addresses = ["module.api.aws_autoscaling_group.*"], allowed_actions = ["update"], max_changes = 2 }`),
				PlanOnly: true,
			},
			{
				Config:        runbookConfig(repo, "high", `verify = { within = "1h30m", promql = "histogram_quantile(0.99, rate(http_duration_seconds_bucket[5m])) < 0.5" }`+"\n"+`plan = { allowed_addresses = ["module.api.aws_autoscaling_group.*"], allowed_actions = ["update"], max_changes = 2 }`),
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: "scale-out-api",
				// The imported state reads the catalog's canonical spelling.
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "name",
				ImportStateVerifyIgnore:              []string{"verify.within"},
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if out, err := gittest.Output(repo, "ls-tree", "-r", "--name-only", "main"); err != nil || out != "" {
				return fmt.Errorf("files left after destroy: %q (%w)", out, err)
			}
			return checkLastCommit(repo, "runbook: delete scale-out-api")(nil)
		},
	})
}

func TestAccRunbookDrift(t *testing.T) {
	repo := gittest.BareRepo(t)
	addr := "remediation_runbook.scale"
	file := "catalog/runbooks/scale-out-api.yaml"
	cfg := runbookConfig(repo, "medium", "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// Someone edits the file in Git: the plan shows the difference, apply restores it.
				PreConfig: func() {
					editInGit(t, repo, "hand edit", func(work string) {
						p := filepath.Join(work, file)
						b, err := os.ReadFile(p)
						if err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(p, []byte(strings.Replace(string(b), "risk: medium", "risk: low", 1)), 0o644); err != nil {
							t.Fatal(err)
						}
					})
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("risk"), knownvalue.StringExact("medium")),
				}},
				Check: checkGitFile(repo, file, "risk: medium"),
			},
			{
				// Someone deletes the file in Git: the plan recreates it.
				PreConfig: func() {
					editInGit(t, repo, "hand delete", func(work string) {
						if err := os.Remove(filepath.Join(work, file)); err != nil {
							t.Fatal(err)
						}
					})
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkGitFile(repo, file, "risk: medium"),
					checkLastCommit(repo, "runbook: add scale-out-api"),
				),
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

func TestAccRunbookBadInput(t *testing.T) {
	repo := gittest.BareRepo(t)
	base := runbookConfig(repo, "medium", "")
	cases := []struct {
		name   string
		config string
		want   string
	}{
		{"risk", strings.Replace(base, `risk        = "medium"`, `risk        = "severe"`, 1), `Attribute risk value must be one of`},
		{"matcher", strings.Replace(base, `service=~\"api-.*\"`, `service=~\"(api\"`, 1), `trigger.matchers\[1\]`},
		{"cel", strings.Replace(base, `value > 0.5`, `value >`, 1), `(?s)trigger.condition.*invalid CEL`},
		{"cel type", strings.Replace(base, `value > 0.5`, `labels.service`, 1), `CEL condition must yield a bool`},
		{"template", strings.Replace(base, `{{ .labels.service }}`, `{{ .service }}`, 1), `(?s)changes\[0\].file.*\.service is not known`},
		{"traversal", strings.Replace(base, `envs/prod/{{ .labels.service }}`, `../../{{ .labels.service }}`, 1), `leaves the repository`},
		{"protected", strings.Replace(base, `envs/prod/{{ .labels.service }}.auto.tfvars`, `.github/workflows/deploy.yml`, 1), `is protected`},
		{"duration", strings.Replace(base, `cooldown = "1h"`, `cooldown = "soon"`, 1), `(?s)Invalid duration.*"soon"`},
		{"zero duration", strings.Replace(base, `cooldown = "1h"`, `cooldown = "0s"`, 1), `not a positive duration`},
		{"name", strings.Replace(base, `"scale-out-api"`, `"Scale_Out"`, 1), `Attribute name must be 1 to 63 lowercase`},
		{"empty list", strings.Replace(base, `owners      = ["team-api"]`, `owners      = []`, 1), `Attribute owners list must contain at least 1`},
		{"revert without paths", strings.Replace(base, `kind  = "hcl"`, `kind  = "revert"`, 1), `(?s)changes\[0\].paths.*a revert needs at least one path`},
		{"address pattern", strings.Replace(base, `cooldown = "1h"`, `cooldown = "1h"`+"\n"+`  plan = { allowed_addresses = ["aws_instance.worker[first]"] }`, 1),
			`(?s)plan.allowed_addresses\[0\].*invalid address pattern.*instance key "first"`},
	}
	var steps []resource.TestStep
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{Config: tc.config, ExpectError: regexp.MustCompile(tc.want)})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps:                    steps,
		CheckDestroy: func(*terraform.State) error {
			// Nothing of any rejected configuration reached the repository.
			if out, err := gittest.Output(repo, "rev-parse", "--verify", "-q", "refs/heads/main"); err == nil {
				return fmt.Errorf("main exists (%s): a rejected configuration was committed", out)
			}
			return nil
		},
	})
}
