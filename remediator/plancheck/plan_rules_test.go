package plancheck_test

// Rules of reading a plan (outside input, from CI): only the JSON of a plan file in
// format 1.x is read, every change must name its address, type and known actions,
// and a refusal names the field and, for malformed JSON, the line and column.
// Mutation testing (make mutation) found these unguarded.

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
)

const rulesPlanHead = `{"format_version":"1.2","terraform_version":"1.8.5","planned_values":{},"resource_changes":[`

func TestRulePlanParseRefusesWhatIsNotAPlan(t *testing.T) {
	ok := `{"address":"a.b","type":"a","change":{"actions":["update"]}}`
	for _, tc := range []struct{ name, json, want string }{
		{"no format_version", `{"planned_values":{}}`, "plan.json: format_version: missing"},
		{"format 2", `{"format_version":"2.0","planned_values":{}}`, `plan.json: format_version: "2.0" is not supported (want 1.x)`},
		{"format 1 without a dot", `{"format_version":"1","planned_values":{}}`, `format_version: "1" is not supported`},
		{"a state", `{"format_version":"1.0","values":{}}`, "planned_values: missing: this is a state"},
		{"a change without an address", rulesPlanHead + ok + `,{"type":"a","change":{"actions":["update"]}}]}`, "plan.json: resource_changes[1].address: missing"},
		{"a change without a type", rulesPlanHead + ok + `,{"address":"a.c","change":{"actions":["update"]}}]}`, "resource_changes[1].type: missing (a.c)"},
		{"a change without actions", rulesPlanHead + ok + `,{"address":"a.c","type":"a","change":{"actions":[]}}]}`, "resource_changes[1].change.actions: missing (a.c)"},
		{"an unknown action", rulesPlanHead + ok + `,{"address":"a.c","type":"a","change":{"actions":["create","explode"]}}]}`, `resource_changes[1].change.actions: unknown action "explode" (a.c)`},
		{"an unknown first action", rulesPlanHead + `{"address":"a.c","type":"a","change":{"actions":["explode","create"]}}]}`, `resource_changes[0].change.actions: unknown action "explode"`},
		{"trailing data", `{"format_version":"1.2","planned_values":{}} {"format_version":"1.2"}`, "plan.json: trailing data after the plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := plancheck.Parse("plan.json", []byte(tc.json))
			if err == nil || p != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want refused with %q, got %v", tc.want, err)
			}
		})
	}
	p, err := plancheck.Parse("plan.json", []byte(rulesPlanHead+ok+`,{"address":"a.c","type":"a","change":{"actions":["no-op"]}},`+
		`{"address":"a.d","type":"a","change":{"actions":["delete","create"]}}]}`))
	if err != nil || len(p.ResourceChanges) != 3 || p.TerraformVersion != "1.8.5" {
		t.Fatalf("a plan of three changes: %v, %+v", err, p)
	}
}

// Malformed JSON is named by line and column, so a user finds it in a large plan.
func TestRulePlanParseErrorsNameLineAndColumn(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"a syntax error on line 2", "{\n  \"format_version\": x}", "plan.json:2:21: malformed JSON: invalid character 'x'"},
		{"a syntax error on line 1", `{"format_version" "1.2"}`, "plan.json:1:19: malformed JSON"},
		{"a wrong type", "{\n\"format_version\": 1}", "plan.json:2:20: format_version: want string, got number"},
		{"cut short", "{\n\"format_version\": \"1.2\",\n", "plan.json:3:1: malformed JSON: unexpected end of input"},
		{"empty", "", "plan.json:1:1: malformed JSON: unexpected end of input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plancheck.Parse("plan.json", []byte(tc.json))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("want %q…, got %v", tc.want, err)
			}
		})
	}
	e := &plancheck.ParseError{File: "plan.json", Msg: "m"}
	if e.Error() != "plan.json: m" {
		t.Fatalf("an error without a position: %q", e.Error())
	}
}

// A change's action is named the way runbooks name them: a delete and a create, in
// either order, is a replace; any other list is its actions joined.
func TestRulePlanActionNames(t *testing.T) {
	for _, tc := range []struct {
		actions []string
		want    string
	}{
		{[]string{"update"}, "update"},
		{[]string{"delete", "create"}, "replace"},
		{[]string{"create", "delete"}, "replace"},
		{[]string{"create", "create"}, "create,create"},
		{[]string{"delete", "delete"}, "delete,delete"},
		{[]string{"delete", "update"}, "delete,update"},
		{[]string{"update", "create"}, "update,create"},
		{[]string{"delete", "create", "update"}, "delete,create,update"},
		{nil, ""},
	} {
		var rc plancheck.ResourceChange
		rc.Change.Actions = tc.actions
		if got := rc.Action(); got != tc.want {
			t.Errorf("actions %v: %q, want %q", tc.actions, got, tc.want)
		}
	}
}
