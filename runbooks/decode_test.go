package runbooks

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeValidDocuments(t *testing.T) {
	for _, name := range []string{"runbook-scale-out-api.yaml", "runbook-revert-deploy.yaml", "policy-production.yaml"} {
		t.Run(name, func(t *testing.T) {
			doc, err := Decode(name, readTestdata(t, name))
			if err != nil {
				t.Fatal(err)
			}
			enc, err := Encode(doc)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Decode(name, enc)
			if err != nil {
				t.Fatalf("canonical form does not decode: %v\n%s", err, enc)
			}
			if !reflect.DeepEqual(doc, again) {
				t.Fatalf("decode(encode(x)) != x\nfirst:  %+v\nsecond: %+v", doc, again)
			}
			enc2, _ := Encode(again)
			if !bytes.Equal(enc, enc2) {
				t.Fatalf("encoding is not stable:\n%s\n---\n%s", enc, enc2)
			}
		})
	}
}

func TestDecodeDefaults(t *testing.T) {
	doc, err := Decode("p.yaml", []byte("apiVersion: remediation.gitops.dev/v1\nkind: Policy\nmetadata: {name: p}\nspec: {approvals: {high: 3}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := doc.(*Policy)
	if p.Spec.Approvals != (Approvals{Low: 0, Medium: 1, High: 3, Critical: 2}) {
		t.Errorf("approvals = %+v: the absent tiers must keep their defaults", p.Spec.Approvals)
	}
	if p.Spec.AutoMerge.MaxRisk != AutoMergeNone {
		t.Errorf("auto_merge.max_risk = %q, want none by default", p.Spec.AutoMerge.MaxRisk)
	}
	rb, err := DecodeRunbook("r.yaml", []byte(`apiVersion: remediation.gitops.dev/v1
kind: Runbook
metadata: {name: r}
spec:
  risk: low
  trigger: {matchers: ['alertname="A"']}
  changes: [{kind: json, file: a.json, path: a.b, value: "1"}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if !rb.Spec.Enabled || rb.Spec.Rollback != RollbackRevert || !rb.Spec.Verify.AlertResolved || rb.Spec.Verify.Within.Std() != defaultVerifyWithin {
		t.Errorf("runbook defaults not applied: %+v", rb.Spec)
	}
}

func TestDecodeErrorsNameFileLineAndField(t *testing.T) {
	base := string(readTestdata(t, "runbook-scale-out-api.yaml"))
	policy := string(readTestdata(t, "policy-production.yaml"))
	cases := []struct {
		name, doc, want string
	}{
		{"unknown field", strings.Replace(base, "  cooldown: 1h", "  cooldown: 1h\n  cooldwn: 2h", 1), "x.yaml:24:3: spec.cooldwn: unknown field"},
		{"unknown nested field", strings.Replace(base, "    group_by:", "    groupby: [a]\n    group_by:", 1), "x.yaml:14:5: spec.trigger.groupby: unknown field"},
		{"wrong type", strings.Replace(base, "risk: medium", "risk: [medium]", 1), "x.yaml:7:9: spec.risk: expected a string, found a list"},
		{"bool as string", strings.Replace(base, "  risk: medium", "  enabled: \"yes\"\n  risk: medium", 1), "x.yaml:7:12: spec.enabled: expected true or false"},
		{"duplicate key", strings.Replace(base, "  risk: medium", "  risk: medium\n  risk: high", 1), "x.yaml:8:3: spec.risk: duplicate field (first set on line 7)"},
		{"bad duration", strings.Replace(base, "cooldown: 1h", "cooldown: soon", 1), "x.yaml:23:13: spec.cooldown: invalid duration \"soon\""},
		{"bad risk", strings.Replace(base, "risk: medium", "risk: severe", 1), "x.yaml:7:3: spec.risk: invalid risk \"severe\""},
		{"bad matcher", strings.Replace(base, `alertname="HighLatency"`, `alertname=~"(High"`, 1), "x.yaml:11:9: spec.trigger.matchers[0]: invalid matcher"},
		{"bad CEL", strings.Replace(base, "condition: value > 0.5", "condition: value >", 1), "x.yaml:13:5: spec.trigger.condition: invalid CEL"},
		{"non-bool condition", strings.Replace(base, "condition: value > 0.5", "condition: labels.service", 1), "spec.trigger.condition: CEL condition must yield a bool"},
		{"bad value CEL", strings.Replace(base, "math.least(current * 2, 20)", "math.least(current * 2,", 1), "x.yaml:19:7: spec.changes[0].value: invalid CEL"},
		{"unknown template field", strings.Replace(base, "{{ .labels.service }}", "{{ .service }}", 1), "spec.changes[0].file: invalid template: .service is not known"},
		{"broken template", strings.Replace(base, "{{ .labels.service }}", "{{ .labels.service ", 1), "spec.changes[0].file: invalid template"},
		{"path traversal", strings.Replace(base, "envs/prod/{{ .labels.service }}", "../{{ .labels.service }}", 1), "x.yaml:17:7: spec.changes[0].file: path \"../x.auto.tfvars\" leaves the repository"},
		{"protected path", strings.Replace(base, "envs/prod/{{ .labels.service }}.auto.tfvars", ".github/workflows/{{ .labels.service }}.yml", 1), "is protected (.github/**)"},
		{"protected path any case", strings.Replace(base, "envs/prod/{{ .labels.service }}.auto.tfvars", ".GitHub/workflows/x.yml", 1), "is protected"},
		{"unknown change kind", strings.Replace(base, "kind: hcl", "kind: toml", 1), "spec.changes[0].kind: unknown kind \"toml\""},
		{"bad name", strings.Replace(base, "name: scale-out-api", "name: Scale_Out", 1), "x.yaml:4:3: metadata.name: invalid name"},
		{"wrong apiVersion", strings.Replace(base, "remediation.gitops.dev/v1", "remediation.gitops.dev/v2", 1), "x.yaml:1:13: apiVersion: unsupported"},
		{"wrong kind", strings.Replace(base, "kind: Runbook", "kind: Playbook", 1), "x.yaml:2:7: kind: unknown kind \"Playbook\""},
		{"two documents", base + "---\n" + base, "more than one YAML document"},
		{"syntax error", "apiVersion: [\n", "x.yaml:"},
		{"empty", "", "file is empty"},
		{"alias", strings.NewReplacer("  owners: [team-api]", "  owners: [*d]", "description: Double", "description: &d Double").Replace(base), "x.yaml:8:12: spec.owners[0]: YAML aliases are not allowed"},
		{"bad time zone", strings.Replace(policy, "Europe/Berlin", "Mars/Olympus", 1), "y.yaml:24:7: spec.change_windows[0].time_zone: unknown time zone \"Mars/Olympus\""},
		{"bad day", strings.Replace(policy, "[mon, tue", "[monday, tue", 1), "spec.change_windows[0].days[0]: unknown day \"monday\""},
		{"bad clock", strings.Replace(policy, `"18:00"`, `"6pm"`, 1), "spec.change_windows[0].end: invalid time \"6pm\""},
		{"bad auto merge", strings.Replace(policy, "max_risk: low", "max_risk: always", 1), "spec.auto_merge.max_risk: invalid \"always\""},
		{"breaker without window", strings.Replace(policy, "    window: 1h\n", "", 1), "spec.circuit_breaker.window: required"},
		{"integer as string", strings.Replace(policy, "priority: 100", "priority: high", 1), "spec.priority: expected an integer"},
		{"empty check", strings.Replace(policy, "- terraform-plan", `- " "`, 1), "y.yaml:19:7: spec.required_checks[0]: empty check name"},
		{"bad reviewer", strings.Replace(policy, "platform/sre", "platform/sre team", 1), "spec.required_reviewers[0]: invalid reviewer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := "x.yaml"
			if strings.Contains(tc.doc, "kind: Policy") {
				file = "y.yaml"
			}
			_, err := Decode(file, []byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\ndoes not contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), file) {
				t.Fatalf("error %q does not start with the file name", err)
			}
		})
	}
}

func TestDecodeReportsEveryProblem(t *testing.T) {
	doc := strings.NewReplacer("risk: medium", "risk: severe", `service=~"api-.*"`, `service=~"(api"`, "kind: hcl", "kind: toml").Replace(string(readTestdata(t, "runbook-scale-out-api.yaml")))
	_, err := Decode("x.yaml", []byte(doc))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v (%T), want Errors", err, err)
	}
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	want := []string{"spec.risk", "spec.trigger.matchers[1]", "spec.changes[0].kind"}
	if !reflect.DeepEqual(fields, want) {
		t.Fatalf("fields = %v, want %v", fields, want)
	}
}
