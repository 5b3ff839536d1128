package decision

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

func rb(name string, enabled bool, matchers ...string) *runbooks.Runbook {
	r := runbooks.NewRunbook(name)
	r.Spec.Enabled = enabled
	r.Spec.Risk = runbooks.RiskMedium
	r.Spec.Trigger.Matchers = matchers
	r.Spec.Trigger.GroupBy = []string{"service"}
	r.Spec.Changes = []runbooks.Change{{Kind: "json", File: "a.json", Path: "a", Value: "1"}}
	return r
}

func TestDecide(t *testing.T) {
	cond := rb("cond", true, `alertname="A"`, `service="api"`, `env="prod"`)
	cond.Spec.Trigger.Condition = "value > 10"
	cat, err := runbooks.NewCatalog([]*runbooks.Runbook{
		rb("off", false, `alertname="A"`, `service="api"`),
		rb("specific", true, `alertname="A"`, `service=~"api|web"`),
		rb("generic", true, `alertname="A"`),
		cond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := runbooks.NewRouter(cat)
	if err != nil {
		t.Fatal(err)
	}
	d := Decide(r, runbooks.Anomaly{Labels: map[string]string{"alertname": "A", "service": "api", "env": "prod"}, Value: 1})
	var got []string
	for _, it := range d.Items {
		got = append(got, it.Runbook+":"+string(it.Disposition))
	}
	want := "off:skipped-disabled specific:propose generic:shadowed cond:skipped-condition"
	if strings.Join(got, " ") != want {
		t.Fatalf("items = %v, want %s", got, want)
	}
	if d.Acting == nil || d.Acting.Runbook != "specific" || d.Acting.Branch != "remediation/"+d.Acting.ID {
		t.Fatalf("acting = %+v", d.Acting)
	}
	if d.Policy != runbooks.DefaultPolicyName || d.Acting.RequiredApprovals != 1 {
		t.Fatalf("policy %s approvals %d", d.Policy, d.Acting.RequiredApprovals)
	}
	// Same runbook and target: same id; another target: another id.
	again := Decide(r, runbooks.Anomaly{Labels: map[string]string{"alertname": "A", "service": "api", "pod": "x-2"}})
	if again.Acting.ID != d.Acting.ID {
		t.Fatalf("id changed for the same target: %s vs %s", again.Acting.ID, d.Acting.ID)
	}
	web := Decide(r, runbooks.Anomaly{Labels: map[string]string{"alertname": "A", "service": "web"}})
	if web.Acting.ID == d.Acting.ID {
		t.Fatal("two targets share an id")
	}
	if none := Decide(r, runbooks.Anomaly{Labels: map[string]string{"alertname": "B"}}); none.Acting != nil {
		t.Fatalf("acting on no match: %+v", none.Acting)
	}
}

func TestIDIsABranchComponent(t *testing.T) {
	id := ID("scale-out-api", "service=api gateway,cluster=eu/1")
	if !strings.HasPrefix(id, "scale-out-api-") || len(id) != len("scale-out-api-")+10 || strings.ContainsAny(id, " /,=") {
		t.Fatalf("id %q", id)
	}
}
