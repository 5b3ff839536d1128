package provider

import (
	"regexp"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const routingCatalog = `
resource "remediation_runbook" "generic" {
  name    = "latency-generic"
  risk    = "low"
  trigger = { matchers = ["alertname=\"HighLatency\""] }
  changes = [{ kind = "yaml", file = "k8s/{{ .labels.service }}.yaml", path = "spec.replicas", value = "current + 1" }]
}

resource "remediation_runbook" "api" {
  name    = "latency-api"
  risk    = "medium"
  trigger = {
    matchers  = ["alertname=\"HighLatency\"", "service=\"api\""]
    condition = "value > 0.5"
    group_by  = ["service", "cluster"]
  }
  changes = [{ kind = "hcl", file = "envs/{{ .labels.cluster }}/api.auto.tfvars", path = "replicas", value = "math.least(current * 2, 20)" }]
}

resource "remediation_policy" "prod" {
  name       = "production"
  selector   = ["env=\"prod\""]
  priority   = 10
  auto_merge = { max_risk = "low" }
}

resource "remediation_policy" "all" {
  name = "everything"
}
`

const routeQueries = `
data "remediation_route" "api_slow" {
  labels     = { alertname = "HighLatency", service = "api", cluster = "eu1", env = "prod" }
  value      = 0.9
  depends_on = [remediation_runbook.generic, remediation_runbook.api, remediation_policy.prod, remediation_policy.all]
}

data "remediation_route" "api_fast" {
  labels     = { alertname = "HighLatency", service = "api", cluster = "eu1", env = "staging" }
  value      = 0.1
  depends_on = [remediation_runbook.generic, remediation_runbook.api, remediation_policy.prod, remediation_policy.all]
}

data "remediation_route" "nothing" {
  labels     = { alertname = "DiskFull" }
  depends_on = [remediation_runbook.generic, remediation_runbook.api, remediation_policy.prod, remediation_policy.all]
}

data "remediation_catalog" "all" {
  depends_on = [remediation_runbook.generic, remediation_runbook.api, remediation_policy.prod, remediation_policy.all]
}
`

func TestAccRouteAndCatalogDataSources(t *testing.T) {
	repo := gittest.BareRepo(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: providerBlock(repo) + routingCatalog},
			{
				Config: providerBlock(repo) + routingCatalog + routeQueries,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("runbook"), knownvalue.StringExact("latency-api")),
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("policy"), knownvalue.StringExact("production")),
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("risk"), knownvalue.StringExact("medium")),
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("target"), knownvalue.StringExact("service=api,cluster=eu1")),
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("required_approvals"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("auto_merge"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("matches"), knownvalue.ListSizeExact(2)),
					// Below the condition's threshold the specific runbook steps aside.
					statecheck.ExpectKnownValue("data.remediation_route.api_fast", tfjsonpath.New("runbook"), knownvalue.StringExact("latency-generic")),
					statecheck.ExpectKnownValue("data.remediation_route.api_fast", tfjsonpath.New("policy"), knownvalue.StringExact("everything")),
					statecheck.ExpectKnownValue("data.remediation_route.api_fast", tfjsonpath.New("skipped").AtSliceIndex(0).AtMapKey("reason"), knownvalue.StringExact("condition is false")),
					// The gate's answer, not the policy's bare 0: a low risk the policy lets
					// no bot merge alone still needs one person (records.NeedOf).
					statecheck.ExpectKnownValue("data.remediation_route.api_fast", tfjsonpath.New("required_approvals"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("data.remediation_route.api_fast", tfjsonpath.New("auto_merge"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.remediation_route.api_fast", tfjsonpath.New("approvals_reason"),
						knownvalue.StringExact("policy everything asks no approval at low risk but lets no low-risk change merge without a human (auto_merge.max_risk none)")),
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("approvals_reason"), knownvalue.Null()),
					// Under production, low risk merges alone (max_risk low, no record asked).
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("matches").AtSliceIndex(1).AtMapKey("required_approvals"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue("data.remediation_route.api_slow", tfjsonpath.New("matches").AtSliceIndex(1).AtMapKey("auto_merge"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("data.remediation_route.nothing", tfjsonpath.New("runbook"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.remediation_route.nothing", tfjsonpath.New("matches"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("data.remediation_catalog.all", tfjsonpath.New("runbooks").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact("latency-api")),
					statecheck.ExpectKnownValue("data.remediation_catalog.all", tfjsonpath.New("runbooks"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue("data.remediation_catalog.all", tfjsonpath.New("policies"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue("data.remediation_catalog.all", tfjsonpath.New("head"), knownvalue.StringRegexp(regexpHex40)),
				},
			},
			// A record read without the remediator's key could count anyone's notes.
			{
				Config: providerBlock(repo) + routingCatalog + `
data "remediation_route" "record" {
  labels              = { alertname = "HighLatency", service = "api", cluster = "eu1", env = "prod" }
  value               = 0.9
  outcomes_repository = "` + repo + `"
}`,
				ExpectError: regexp.MustCompile(`(?s)Attribute "remediator_public_key" must be specified when\s+"outcomes_repository"`),
			},
			{
				Config: providerBlock(repo) + routingCatalog + `
data "remediation_route" "record" {
  labels                = { alertname = "HighLatency", service = "api", cluster = "eu1", env = "prod" }
  value                 = 0.9
  outcomes_repository   = "` + repo + `"
  remediator_public_key = "ssh-ed25519 not-a-key"
}`,
				ExpectError: regexp.MustCompile(`(?s)Invalid remediator public key.*remediator_public_key must be one public key\s+line`),
			},
		},
	})
}
