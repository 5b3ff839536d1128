package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const productionPolicy = `
resource "remediation_policy" "prod" {
  name        = "production"
  description = "Guardrails for production."
  selector    = ["env=\"prod\""]
  priority    = 100
  approvals = {
    medium = 1
    high   = 2
  }
  required_reviewers = ["platform/sre"]
  required_checks    = ["terraform-plan", "remediation/plan-check"]
  auto_merge = {
    max_risk          = "low"
    min_verified_runs = 3
  }
  change_windows = [{
    time_zone = "Europe/Berlin"
    days      = ["mon", "tue", "wed", "thu", "fri"]
    start     = "08:00"
    end       = "18:00"
  }]
  freeze_windows = [{
    time_zone = "UTC"
    from      = "2026-12-20"
    until     = "2027-01-03"
  }]
  limits = {
    max_open = 5
  }
  circuit_breaker = {
    failures = 3
    window   = "1h"
    cooldown = "6h"
  }
  plan = {
    max_changes           = 10
    denied_resource_types = ["aws_iam_role"]
  }
  protected_paths = ["envs/prod/network/**"]
}
`

func TestAccPolicyResource(t *testing.T) {
	repo := gittest.BareRepo(t)
	addr := "remediation_policy.prod"
	file := "catalog/policies/production.yaml"
	cfg := providerBlock(repo) + productionPolicy
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("approvals"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"low": knownvalue.Int64Exact(0), "medium": knownvalue.Int64Exact(1), "high": knownvalue.Int64Exact(2), "critical": knownvalue.Int64Exact(2),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("limits").AtMapKey("per_hour"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("required_checks"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("terraform-plan"), knownvalue.StringExact("remediation/plan-check"),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("plan").AtMapKey("allow_destroy"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("change_windows").AtSliceIndex(0).AtMapKey("days"), knownvalue.ListSizeExact(5)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkGitFile(repo, file, "kind: Policy", `- env="prod"`, "required_checks:\n    - terraform-plan\n    - remediation/plan-check", "max_risk: low", "time_zone: Europe/Berlin", "cooldown: 6h", "- envs/prod/network/**"),
					checkLastCommit(repo, "policy: add production"),
				),
			},
			{Config: cfg, PlanOnly: true},
			{
				Config: strings.Replace(cfg, "max_open = 5", "max_open = 5\n    per_hour = 12", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkGitFile(repo, file, "per_hour: 12"),
					checkLastCommit(repo, "policy: update production"),
				),
			},
			{
				ResourceName:                         addr,
				ImportState:                          true,
				ImportStateId:                        "production",
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "name",
			},
		},
	})
}

func TestAccPolicyBadInput(t *testing.T) {
	repo := gittest.BareRepo(t)
	base := providerBlock(repo) + productionPolicy
	cases := []struct{ name, config, want string }{
		{"time zone", strings.Replace(base, "Europe/Berlin", "Mars/Olympus", 1), `(?s)change_windows\[0\].time_zone.*unknown time zone "Mars/Olympus"`},
		{"day", strings.Replace(base, `"mon", "tue"`, `"monday", "tue"`, 1), `value must be one of`},
		{"clock", strings.Replace(base, `"18:00"`, `"6pm"`, 1), `(?s)change_windows\[0\].end.*invalid time "6pm"`},
		{"selector", strings.Replace(base, `env=\"prod\"`, `env=~\"(prod\"`, 1), `(?s)selector\[0\].*invalid matcher`},
		{"auto merge", strings.Replace(base, `max_risk          = "low"`, `max_risk          = "always"`, 1), `Attribute auto_merge.max_risk value must be one of`},
		{"breaker", strings.Replace(base, `window   = "1h"`, ``, 1), `(?s)circuit_breaker.window.*required when failures is set`},
		{"reviewer", strings.Replace(base, `platform/sre`, `platform sre`, 1), `(?s)required_reviewers\[0\].*invalid reviewer`},
		{"check twice", strings.Replace(base, `"terraform-plan", "remediation/plan-check"`, `"terraform-plan", "terraform-plan"`, 1), `(?s)required_checks\[1\].*check "terraform-plan" is listed twice`},
		{"resource type", strings.Replace(base, `aws_iam_role`, `AWS IAM`, 1), `(?s)plan.denied_resource_types\[0\].*invalid resource type`},
	}
	var steps []resource.TestStep
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{Config: tc.config, ExpectError: regexp.MustCompile(tc.want)})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
	if out, err := gittest.Output(repo, "rev-parse", "--verify", "-q", "refs/heads/main"); err == nil {
		t.Fatalf("main exists (%s): a rejected configuration was committed", out)
	}
}
