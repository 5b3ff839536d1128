package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

var regexpHex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)

func TestAccMatchesFunction(t *testing.T) {
	resource.Test(t, resource.TestCase{
		// Provider functions need Terraform 1.8 (or OpenTofu 1.7); OpenTofu 1.6 skips here.
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(version.Must(version.NewVersion("1.8.0")))},
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: `
output "api" {
  value = provider::remediation::matches(["alertname=\"HighLatency\"", "service=~\"api-.*\""], { alertname = "HighLatency", service = "api-gateway" })
}
output "web" {
  value = provider::remediation::matches(["service=~\"api-.*\""], { service = "web" })
}
output "absent_label_reads_empty" {
  value = provider::remediation::matches(["team=\"\""], { service = "web" })
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("api", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("web", knownvalue.Bool(false)),
					statecheck.ExpectKnownOutputValue("absent_label_reads_empty", knownvalue.Bool(true)),
				},
			},
			{
				Config:      `output "bad" { value = provider::remediation::matches(["service=~\"(api\""], {}) }`,
				ExpectError: regexp.MustCompile(`Invalid matcher`),
			},
		},
	})
}
