package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

const minimalRunbook = `
resource "remediation_runbook" "r" {
  name    = "%s"
  risk    = "low"
  trigger = { matchers = ["alertname=\"A\""] }
  changes = [{ kind = "json", file = "flags.json", path = "features.cache", value = "true" }]
}
`

func TestAccProviderConfiguration(t *testing.T) {
	repo := gittest.BareRepo(t)
	t.Setenv(EnvRepository, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				// No repository anywhere: the error names the attribute and the variable.
				Config:      `provider "remediation" {}` + fmt.Sprintf(minimalRunbook, "a"),
				ExpectError: regexp.MustCompile(`(?s)Missing catalog repository.*REMEDIATION_REPOSITORY`),
			},
			{
				// The environment fills in what the block leaves out.
				PreConfig: func() { t.Setenv(EnvRepository, repo) },
				Config:    `provider "remediation" {}` + fmt.Sprintf(minimalRunbook, "a"),
				Check:     checkGitFile(repo, "catalog/runbooks/a.yaml", "kind: json"),
			},
			{
				// A new name replaces the runbook: the old file goes, the new one comes.
				Config: `provider "remediation" {}` + fmt.Sprintf(minimalRunbook, "b"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("remediation_runbook.r", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: checkGitFile(repo, "catalog/runbooks/b.yaml", "name: b"),
			},
		},
	})
}

func TestAccUnreachableRepository(t *testing.T) {
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			// The error says which repository and why, with the token nowhere in it.
			Config: `provider "remediation" {
  repository = "https://127.0.0.1:1/catalog.git"
  token      = "tok-very-secret"
}` + fmt.Sprintf(minimalRunbook, "c"),
			ExpectError: regexp.MustCompile(`(?s)Cannot open the catalog repository.*https://127.0.0.1:1/catalog.git`),
		}},
	})
}
