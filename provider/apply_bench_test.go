package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// BenchmarkApply200 times a terraform apply of 200 remediation_runbook resources,
// each committed and pushed to a catalog repository, against its peer: 200 files of
// a local_file-like plugin-framework provider (testdata/localbench), a real provider
// process that writes one file per resource. Two floors: the same apply with the
// catalog write skipped (the provider built with -tags benchfloor: schema, plan,
// validation and state as ever, no commit, no push), which is what the catalog write
// costs measured against; and terraform_data, which Terraform keeps in local state
// without any provider.
func BenchmarkApply200(b *testing.B) {
	benchApply(b, 200, 5, true)
}

// BenchmarkApply1000 is BenchmarkApply200 with 1,000 runbooks, without terraform_data,
// in one round (each case once, side by side): a round of three 1,000-resource applies
// already costs minutes.
func BenchmarkApply1000(b *testing.B) {
	benchApply(b, 1000, 1, false)
}

type applyCase struct {
	name   string
	config func(repo string) string
	pdir   string
}

// benchApply runs every case once per round, in an order that rotates from round to
// round, and reports each case's median: on a shared machine the load drifts over
// minutes, and cases timed one after another (as sub-benchmarks run) would each meet
// a different load. A sub-benchmark per case reports its median as its ns/op, so
// benchratio compares them as siblings; the -benchtime flag does not apply.
func benchApply(b *testing.B, n, rounds int, terraformData bool) {
	bin := terraformCLI(b)
	cases := []applyCase{
		{"remediation_runbook", func(repo string) string { return manyRunbooks(repo, "bench", n) }, providerBinaryDir(b)},
		{"peer=local_file", func(repo string) string { return manyFiles(filepath.Dir(repo), n) }, providerBinaryDir(b)},
		{"floor=write_skipped", func(repo string) string { return manyRunbooks(repo, "bench", n) }, floorProviderDir(b)},
	}
	if terraformData {
		cases = append(cases, applyCase{"floor=terraform_data", func(string) string {
			return fmt.Sprintf(`
resource "terraform_data" "r" {
  for_each = toset([for i in range(%d) : format("bench-%%03d", i)])
  input    = { name = each.key, risk = "low", matchers = ["alertname=\"${each.key}\""] }
}
`, n)
		}, providerBinaryDir(b)})
	}
	times := make([][]time.Duration, len(cases))
	for r := 0; r < rounds; r++ {
		for i := range cases {
			c := (i + r) % len(cases)
			times[c] = append(times[c], timeApply(b, bin, cases[c]))
		}
	}
	for c, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportMetric(float64(median(times[c]).Nanoseconds()), "ns/op")
		})
	}
}

// timeApply times one apply of the case into a new, empty catalog repository.
func timeApply(b *testing.B, bin string, bc applyCase) time.Duration {
	b.Helper()
	repo := benchRepo(b)
	dir, env := workdirWith(b, bc.config(repo), bc.pdir)
	start := time.Now()
	if err := apply(bin, dir, env); err != nil {
		b.Fatalf("%s: %v", bc.name, err)
	}
	return time.Since(start)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// manyFiles configures n files of the local_file-like peer, under dir.
func manyFiles(dir string, n int) string {
	return fmt.Sprintf(`
terraform {
  required_providers {
    localbench = { source = "gitops-remediation/localbench" }
  }
}

resource "localbench_file" "f" {
  for_each = toset([for i in range(%d) : format("bench-%%03d", i)])
  filename = "%s/${each.key}.yaml"
  content  = yamlencode({ name = each.key, risk = "low", matchers = ["alertname=\"${each.key}\""] })
}
`, n, dir)
}

func benchRepo(b *testing.B) string {
	b.Helper()
	dir := b.TempDir() + "/catalog.git"
	if out, err := gittest.Output("", "init", "-q", "--bare", "--initial-branch=main", dir); err != nil {
		b.Fatalf("git init: %v %s", err, out)
	}
	return dir
}

// BenchmarkPlan1000 times a terraform plan (with its refresh) of 1,000 applied
// remediation_runbook resources against 1,000 files of the local_file-like peer.
func BenchmarkPlan1000(b *testing.B) {
	bin := terraformCLI(b)
	const n = 1000
	cases := []struct {
		name   string
		config func(repo string) string
	}{
		{"remediation_runbook", func(repo string) string { return manyRunbooks(repo, "bench", n) }},
		{"peer=local_file", func(repo string) string { return manyFiles(filepath.Dir(repo), n) }},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			repo := benchRepo(b)
			dir, env := workdir(b, bc.config(repo))
			if err := apply(bin, dir, env); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := plan(bin, dir, env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// plan runs terraform plan, which refreshes every resource first, and wants no change.
func plan(bin, dir string, env []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := runCLI(ctx, bin, dir, env, "plan", "-input=false", "-no-color", "-detailed-exitcode")
	if err != nil {
		return fmt.Errorf("%s plan in %s (exit 2 means a change): %w\n%s", filepath.Base(bin), dir, err, tail(out, 40))
	}
	return nil
}
