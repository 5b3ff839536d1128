package provider

import (
	"fmt"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// BenchmarkApply200 times a terraform apply of 200 remediation_runbook resources,
// each committed and pushed to a catalog repository, against its peer: an apply of
// 200 terraform_data resources, which Terraform keeps in local state only.
func BenchmarkApply200(b *testing.B) {
	bin := terraformCLI(b)
	const n = 200
	cases := []struct {
		name   string
		config func(repo string) string
	}{
		{"remediation_runbook", func(repo string) string { return manyRunbooks(repo, "bench", n) }},
		{"peer=terraform_data", func(string) string {
			return fmt.Sprintf(`
resource "terraform_data" "r" {
  for_each = toset([for i in range(%d) : format("bench-%%03d", i)])
  input    = { name = each.key, risk = "low", matchers = ["alertname=\"${each.key}\""] }
}
`, n)
		}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				repo := benchRepo(b)
				dir, env := workdir(b, bc.config(repo))
				b.StartTimer()
				if err := apply(bin, dir, env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchRepo(b *testing.B) string {
	b.Helper()
	dir := b.TempDir() + "/catalog.git"
	if out, err := gittest.Output("", "init", "-q", "--bare", "--initial-branch=main", dir); err != nil {
		b.Fatalf("git init: %v %s", err, out)
	}
	return dir
}
