package plancheck_test

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
)

func rulesPlan(changes ...string) *plancheck.Plan {
	p := &plancheck.Plan{TerraformVersion: "1.8.5"}
	for _, c := range changes {
		addr, actions, _ := strings.Cut(c, " ")
		var rc plancheck.ResourceChange
		rc.Address = addr
		rc.Type = strings.SplitN(strings.TrimPrefix(addr, "module.api."), ".", 2)[0]
		rc.Change.Actions = strings.Split(actions, ",")
		p.ResourceChanges = append(p.ResourceChanges, rc)
	}
	return p
}

var rulesArtifact = &artifact.Artifact{ID: "scale-out-api-1", Runbook: "scale-out-api", Policy: "production", Risk: "medium"}

// violations is "rule address" of each violation, in order.
func violations(r *plancheck.Result) string {
	var out []string
	for _, v := range r.Violations {
		out = append(out, v.Rule+" "+v.Address)
	}
	return strings.Join(out, "; ")
}

func TestRulePlanCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		plan    *plancheck.Plan
		limits  artifact.Limits
		want    string
		changes int
	}{
		{"reads and no-ops do not count", rulesPlan("data.aws_ami.x read", "aws_instance.a no-op", "aws_instance.b update"),
			artifact.Limits{RunbookMaxChanges: 1, AllowedActions: []string{"update"}}, "", 1},
		{"an undeclared resource", rulesPlan("module.api.aws_instance.a update", "aws_iam_role.admin update"),
			artifact.Limits{AllowedAddresses: []string{"module.api.*.*"}}, "undeclared-resource aws_iam_role.admin", 2},
		{"an address that cannot be parsed is undeclared", rulesPlan("not an address update"),
			artifact.Limits{AllowedAddresses: []string{"module.api.*.*"}}, "undeclared-resource not", 1},
		{"a bad allowed pattern is a violation, the others still apply", rulesPlan("module.api.aws_instance.a update"),
			artifact.Limits{AllowedAddresses: []string{"module.[", "module.api.*.*"}}, "undeclared-resource ", 1},
		{"an action not allowed", rulesPlan("aws_instance.a create", "aws_instance.b update"),
			artifact.Limits{AllowedActions: []string{"update"}}, "action-not-allowed aws_instance.a", 2},
		{"destroy not allowed by the runbook", rulesPlan("aws_instance.a delete"),
			artifact.Limits{PolicyAllowsDestroy: true}, "destroy-not-allowed aws_instance.a", 1},
		{"destroy not allowed by the policy", rulesPlan("aws_instance.a delete,create"),
			artifact.Limits{RunbookAllowsDestroy: true}, "destroy-not-allowed aws_instance.a", 1},
		{"forget is a destroy", rulesPlan("aws_instance.a forget"), artifact.Limits{}, "destroy-not-allowed aws_instance.a", 1},
		{"create before destroy is a replace", rulesPlan("aws_instance.a create,delete"), artifact.Limits{}, "destroy-not-allowed aws_instance.a", 1},
		{"destroy allowed by both", rulesPlan("aws_instance.a delete"), artifact.Limits{RunbookAllowsDestroy: true, PolicyAllowsDestroy: true}, "", 1},
		{"a denied type, the first matching pattern named", rulesPlan("aws_iam_role.x update", "aws_instance.y update"),
			artifact.Limits{DeniedResourceTypes: []string{"aws_s3_*", "aws_iam_*", "aws_iam_role"}}, "denied-resource-type aws_iam_role.x", 2},
		{"runbook max changes exactly reached", rulesPlan("aws_instance.a update", "aws_instance.b update"),
			artifact.Limits{RunbookMaxChanges: 2, PolicyMaxChanges: 2}, "", 2},
		{"runbook max changes exceeded", rulesPlan("aws_instance.a update", "aws_instance.b update"),
			artifact.Limits{RunbookMaxChanges: 1}, "max-changes ", 2},
		{"policy max changes exceeded", rulesPlan("aws_instance.a update", "aws_instance.b update"),
			artifact.Limits{RunbookMaxChanges: 5, PolicyMaxChanges: 1}, "max-changes ", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := plancheck.CheckWith(tc.plan, rulesArtifact, tc.limits)
			if got := violations(r); got != tc.want {
				t.Fatalf("violations %q, want %q", got, tc.want)
			}
			if len(r.Changes) != tc.changes || r.Passed() != (tc.want == "") {
				t.Fatalf("%d changes, passed %v: %+v", len(r.Changes), r.Passed(), r.Changes)
			}
			for _, c := range r.Changes {
				if c.OK == strings.Contains(tc.want, " "+c.Address) && c.Address != "" {
					t.Errorf("change %s OK=%v with violations %q", c.Address, c.OK, tc.want)
				}
			}
		})
	}
}

func TestRulePlanCheckMessagesNameTheLimit(t *testing.T) {
	r := plancheck.CheckWith(rulesPlan("aws_instance.a update", "aws_instance.b update", "aws_instance.c update"), rulesArtifact,
		artifact.Limits{RunbookMaxChanges: 2, PolicyMaxChanges: 1})
	var reasons []string
	for _, v := range r.Violations {
		reasons = append(reasons, v.Reason)
	}
	got := strings.Join(reasons, "\n")
	for _, w := range []string{"3 resources change; runbook scale-out-api allows at most 2", "3 resources change; policy production allows at most 1"} {
		if !strings.Contains(got, w) {
			t.Errorf("reasons %q lack %q", got, w)
		}
	}
	n := plancheck.NotARemediation(rulesPlan("data.x.y read", "aws_instance.a update", "aws_instance.b no-op"))
	if len(n.Changes) != 1 || n.Remediation || !n.Passed() {
		t.Fatalf("not a remediation: %+v", n)
	}
	if c := plancheck.Check(rulesPlan("aws_instance.a create"), &artifact.Artifact{Limits: artifact.Limits{AllowedActions: []string{"update"}}}); c.Passed() {
		t.Fatal("Check uses the artifact's limits")
	}
}

// Violations are ordered by address, and those of one address (or of none) keep the
// order the rules are checked in: a report reads the same on every run.
func TestRulePlanCheckViolationOrder(t *testing.T) {
	r := plancheck.CheckWith(rulesPlan("aws_s3_bucket.b delete", "aws_iam_role.a create"), rulesArtifact, artifact.Limits{
		AllowedAddresses: []string{"module.api.*.*"}, AllowedActions: []string{"update"}, DeniedResourceTypes: []string{"aws_*"},
		RunbookMaxChanges: 1, PolicyMaxChanges: 1})
	var got []string
	for _, v := range r.Violations {
		got = append(got, v.Rule+" "+v.Address)
	}
	want := []string{
		"max-changes ", "max-changes ",
		"undeclared-resource aws_iam_role.a", "action-not-allowed aws_iam_role.a", "denied-resource-type aws_iam_role.a",
		"undeclared-resource aws_s3_bucket.b", "action-not-allowed aws_s3_bucket.b", "destroy-not-allowed aws_s3_bucket.b", "denied-resource-type aws_s3_bucket.b",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("violations in order:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(r.Violations[0].Reason, "runbook scale-out-api") || !strings.Contains(r.Violations[1].Reason, "policy production") {
		t.Fatalf("the runbook's limit before the policy's: %q, %q", r.Violations[0].Reason, r.Violations[1].Reason)
	}
}

// A change that is not a remediation still lists what changes: every change but
// reads and no-ops.
func TestRulePlanCheckNotARemediationListsTheChanges(t *testing.T) {
	n := plancheck.NotARemediation(rulesPlan("data.x.y read", "aws_instance.a update", "aws_instance.b no-op", "aws_instance.c delete,create"))
	var got []string
	for _, c := range n.Changes {
		got = append(got, c.Address+" "+c.Action)
	}
	if strings.Join(got, ", ") != "aws_instance.a update, aws_instance.c replace" {
		t.Fatalf("changes %v, want aws_instance.a update and aws_instance.c replace", got)
	}
}
