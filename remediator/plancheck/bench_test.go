package plancheck_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
)

// benchPlan writes a plan of 10,000 changes across 100 modules: updates, some
// replaces, some undeclared resources; 29 violations under the benchmark's limits.
func benchPlan(b *testing.B, dir string) string {
	b.Helper()
	var rcs []map[string]any
	for i := 0; i < 10000; i++ {
		kind, act := "api", []string{"update"}
		if i%2 == 1 {
			kind = "web"
		}
		if i%997 == 0 {
			act = []string{"delete", "create"}
		}
		if i%1499 == 0 {
			kind = "db"
		}
		rcs = append(rcs, map[string]any{
			"address": fmt.Sprintf("module.app%d.terraform_data.%s%d", i%100, kind, i), "mode": "managed",
			"type": "terraform_data", "name": fmt.Sprintf("%s%d", kind, i),
			"change": map[string]any{"actions": act, "before": map[string]any{"input": i}, "after": map[string]any{"input": i + 1}},
		})
	}
	data, err := json.Marshal(map[string]any{"format_version": "1.2", "terraform_version": "1.8.5", "planned_values": map[string]any{}, "resource_changes": rcs})
	if err != nil {
		b.Fatal(err)
	}
	f := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkPlanCheck10k checks one 10,000-resource plan, as a process reading the
// plan file, against its peer: conftest with the same rules in Rego
// (testdata/conftest/policy.rego). Both must find the same 29 violations.
func BenchmarkPlanCheck10k(b *testing.B) {
	root := testenv.ModuleRoot(b)
	conftest := testenv.Tool(b, "conftest")
	dir := b.TempDir()
	plan := benchPlan(b, dir)
	bin := testenv.Remediator(b)
	cmd := func(name string, args ...string) *exec.Cmd {
		c := exec.CommandContext(context.Background(), name, args...)
		c.Dir = root
		return c
	}
	a := &artifact.Artifact{ID: "bench-0011223344", Runbook: "bench", Policy: "bench", Risk: "low", Limits: artifact.Limits{
		AllowedAddresses: []string{"module.app*.terraform_data.web*", "module.app*.terraform_data.api*"},
		AllowedActions:   []string{"create", "update"}, DeniedResourceTypes: []string{"aws_iam_*"}, PolicyMaxChanges: 20000,
	}}
	data, err := a.Encode()
	if err != nil {
		b.Fatal(err)
	}
	art := filepath.Join(dir, "artifact.yaml")
	if err := os.WriteFile(art, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("remediator", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			out, err := cmd(bin, "plan-check", "--plan", plan, "--artifact", art, "--format", "json").Output()
			var res struct{ Violations []any }
			if jerr := json.Unmarshal(out, &res); jerr != nil || len(res.Violations) != 29 {
				b.Fatalf("%d violations, %v %v", len(res.Violations), err, jerr)
			}
		}
	})
	b.Run("peer=conftest", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			out, _ := cmd(conftest, "test", plan, "-p", "remediator/plancheck/testdata/conftest/policy.rego", "--output", "json", "--no-color").Output()
			var res []struct{ Failures []any }
			if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 || len(res[0].Failures) != 29 {
				b.Fatalf("conftest: %v %s", err, strings.TrimSpace(string(out))[:min(200, len(out))])
			}
		}
	})
}
