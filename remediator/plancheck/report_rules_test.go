package plancheck_test

// Rules of the plan-check report reviewers read on the pull request: the verdict
// first, every change marked, every violation with its reason, values that cannot
// break out of their table cell, and a table bounded in rows (the JSON keeps every
// change). Mutation testing (make mutation) found these unguarded.

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
)

func markdown(t *testing.T, r *plancheck.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRulePlanReportVerdictChangesAndViolations(t *testing.T) {
	failed := plancheck.CheckWith(rulesPlan("aws_instance.a update", "aws_iam_role.x create"), rulesArtifact,
		artifact.Limits{AllowedActions: []string{"update"}, PolicyMaxChanges: 1})
	failed.Note = "the artifact's limits differ from the catalog's"
	md := markdown(t, failed)
	for _, want := range []string{
		plancheck.Marker + "\n### ❌ plan-check: 2 violation(s)\n\nRemediation `scale-out-api-1` (runbook **scale-out-api**, policy **production**, risk **medium**): 2 resource(s) change; the plan goes beyond",
		"\n> **Note:** the artifact's limits differ from the catalog's\n",
		"| ✅ | `aws_instance.a` | `aws_instance` | update |\n| ❌ | `aws_iam_role.x` | `aws_iam_role` | create |\n",
		"\n#### Violations\n\n- **max-changes**: 2 resources change; policy production allows at most 1 (max_changes)\n- **action-not-allowed** `aws_iam_role.x`: create is not an action",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("failed report lacks %q:\n%s", want, md)
		}
	}

	passed := markdown(t, plancheck.CheckWith(rulesPlan("aws_instance.a update"), rulesArtifact, artifact.Limits{}))
	if !strings.HasPrefix(passed, plancheck.Marker+"\n### ✅ plan-check: passed\n\nRemediation `scale-out-api-1` (runbook **scale-out-api**, policy **production**, risk **medium**): 1 resource(s) change, all within the limits.\n") ||
		strings.Contains(passed, "Violations") || strings.Contains(passed, "Note") {
		t.Errorf("passed report:\n%s", passed)
	}

	none := plancheck.NotARemediation(rulesPlan("data.x.y read"))
	if got := markdown(t, none); got != plancheck.Marker+"\n### ✅ plan-check: passed ("+none.Note+")\n\n0 resource(s) change.\n" {
		t.Errorf("not a remediation, nothing changes: %q", got)
	}
}

// A value (an address from the plan, a name from the artifact) cannot end its cell
// or code span, nor add a line to the table.
func TestRulePlanReportCellsHoldTheirValue(t *testing.T) {
	r := &plancheck.Result{Remediation: true, ID: "x|y`z", Runbook: "a\nb", Policy: "p", Risk: "r", Violations: []plancheck.Violation{},
		Changes: []plancheck.Change{{Address: "m.a[\"|\"]\n| ❌ | `evil`", Type: "t", Action: "update", OK: true}}}
	md := markdown(t, r)
	if !strings.Contains(md, "Remediation `x\\|y'z` (runbook **a b**,") {
		t.Errorf("the id and runbook not kept in their spans:\n%s", md)
	}
	if !strings.Contains(md, "| ✅ | `m.a[\"\\|\"] \\| ❌ \\| 'evil'` | `t` | update |\n") || strings.Count(md, "\n|") != 3 {
		t.Errorf("the address not kept in its cell:\n%s", md)
	}
}

func TestRulePlanReportTableIsBounded(t *testing.T) {
	for _, n := range []int{2000, 2003} {
		r := &plancheck.Result{Remediation: true, Violations: []plancheck.Violation{}}
		for i := range n {
			r.Changes = append(r.Changes, plancheck.Change{Address: fmt.Sprintf("a.r%d", i), Type: "a", Action: "update", OK: true})
		}
		md := markdown(t, r)
		rows := strings.Count(md, "| ✅ | `a.r")
		more := strings.Contains(md, "| | … 3 more | | |\n")
		if rows != 2000 || more != (n == 2003) || !strings.Contains(md, "`a.r1999`") {
			t.Errorf("%d changes: %d rows, a 'more' row %v", n, rows, more)
		}
		var js bytes.Buffer
		if err := r.JSON(&js); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(js.String(), `"address":`); got != n {
			t.Errorf("%d changes: the JSON has %d", n, got)
		}
	}
}

// The JSON's result says the verdict a script reads.
func TestRulePlanReportJSONResult(t *testing.T) {
	for _, tc := range []struct {
		r    *plancheck.Result
		want string
	}{
		{plancheck.NotARemediation(rulesPlan()), `{"result":"not-a-remediation","remediation":false,`},
		{plancheck.CheckWith(rulesPlan("a.b update"), rulesArtifact, artifact.Limits{}), `{"result":"pass","remediation":true,`},
		{plancheck.CheckWith(rulesPlan("a.b delete"), rulesArtifact, artifact.Limits{}), `{"result":"fail","remediation":true,`},
	} {
		var js bytes.Buffer
		if err := tc.r.JSON(&js); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(js.String(), tc.want) || !strings.HasSuffix(js.String(), "}\n") {
			t.Errorf("JSON %s, want it to start %s", js.String(), tc.want)
		}
	}
	var js bytes.Buffer
	r := &plancheck.Result{Remediation: true, Changes: []plancheck.Change{{Address: "a\n\r\t\b\f>\x01", Type: "\x80\x7f"}}}
	if err := r.JSON(&js); err != nil {
		t.Fatal(err)
	}
	if want := `"address":"a\n\r\t\b\f\u003e\u0001"`; !strings.Contains(js.String(), want) {
		t.Errorf("escapes: %s, want %s", js.String(), want)
	}
	// Text after a valid multi-byte rune is still escaped; a valid U+FFFD is kept as
	// it is, U+2029 escaped like U+2028.
	js.Reset()
	r.Changes[0].Action = "é<\uFFFD\u2029é"
	if err := r.JSON(&js); err != nil {
		t.Fatal(err)
	}
	if want := `"action":"é\u003c` + "\uFFFD" + `\u2029é"`; !strings.Contains(js.String(), want) {
		t.Errorf("runes: %s, want %s", js.String(), want)
	}
	// 0x80, the first byte that is not ASCII, alone is invalid UTF-8; DEL is ASCII.
	if want := `"type":"\ufffd` + "\x7f" + `"`; !strings.Contains(js.String(), want) {
		t.Errorf("invalid UTF-8: %s, want %s", js.String(), want)
	}
}
