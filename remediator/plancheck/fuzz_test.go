package plancheck_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
)

// Plans are outside input: whatever the bytes, Parse returns a plan or an error, and a
// parsed plan can always be checked and reported.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"format_version":"1.2","terraform_version":"1.8.5","planned_values":{},"resource_changes":[{"address":"terraform_data.api","mode":"managed","type":"terraform_data","name":"api","change":{"actions":["update"]}}]}`))
	f.Add([]byte(`{"format_version":"1.2","planned_values":{},"resource_changes":[{"address":"a.b","type":"a","change":{"actions":["delete","create"]}}]}`))
	f.Add([]byte(`{"format_version":"1.0","values":{}}`))
	f.Add([]byte(`{"format_version":`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := plancheck.Parse("plan.json", data)
		if err != nil {
			if p != nil {
				t.Fatal("a plan and an error")
			}
			return
		}
		res := plancheck.Check(p, &artifact.Artifact{ID: "x", Limits: artifact.Limits{AllowedAddresses: []string{"a.*"}, AllowedActions: []string{"update"}, PolicyMaxChanges: 1}})
		var sink discard
		if err := res.Markdown(&sink); err != nil {
			t.Fatal(err)
		}
		if err := res.JSON(&sink); err != nil {
			t.Fatal(err)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// FuzzResultJSON holds the hand-written report encoder to encoding/json: the same
// document for any strings a plan or an artifact can carry, byte for byte.
func FuzzResultJSON(f *testing.F) {
	f.Add("module.a.b[\"x\"]", "aws_iam_role", "runbook <a&b>", "\u2028\x00\xff\"\\", true, false)
	f.Add("", "", "", "", false, true)
	f.Fuzz(func(t *testing.T, addr, typ, name, note string, remediation, violate bool) {
		r := &plancheck.Result{Remediation: remediation, ID: name, Runbook: name, Risk: typ, Terraform: note, Note: note,
			Changes: []plancheck.Change{{Address: addr, Type: typ, Action: "update", OK: !violate}, {Address: note, Type: name, Action: addr}}}
		if violate {
			r.Violations = []plancheck.Violation{{Rule: "undeclared", Address: addr, Reason: note}, {Rule: name, Reason: typ}}
		}
		var got bytes.Buffer
		if err := r.JSON(&got); err != nil {
			t.Fatal(err)
		}
		outcome := "pass"
		switch {
		case !remediation:
			outcome = "not-a-remediation"
		case violate:
			outcome = "fail"
		}
		want, err := json.Marshal(struct {
			Outcome string `json:"result"`
			*plancheck.Result
		}{outcome, r})
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want)+"\n" {
			t.Fatalf("hand-written:\n%s\nencoding/json:\n%s", got.String(), want)
		}
	})
}
