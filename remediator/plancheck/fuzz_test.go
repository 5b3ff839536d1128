package plancheck_test

import (
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
