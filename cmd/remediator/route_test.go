package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// publishedCatalog publishes runbooks to a bare repository and writes a config naming it.
func publishedCatalog(t testing.TB) string {
	t.Helper()
	return publishedCatalogWith(t, func(*runbooks.Runbook, *runbooks.Policy) {})
}

// publishedCatalogWith lets a test adjust the runbook and the policy before publishing.
func publishedCatalogWith(t testing.TB, adjust func(*runbooks.Runbook, *runbooks.Policy)) string {
	t.Helper()
	dir := t.TempDir()
	repo := filepath.Join(dir, "catalog.git")
	gittest.Run(t, "", "init", "-q", "--bare", "--initial-branch=main", repo)
	store, err := catalogstore.Open(context.Background(), catalogstore.Options{Repository: repo})
	if err != nil {
		t.Fatal(err)
	}
	scale := runbooks.NewRunbook("scale-out-api")
	scale.Spec.Risk = runbooks.RiskMedium
	scale.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`, `service=~"api-.*"`}, Condition: "value > 0.5", GroupBy: []string{"service"}}
	scale.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "math.least(current * 2, 20)"}}
	prod := runbooks.NewPolicy("production")
	prod.Spec.Selector.Matchers = []string{`env="prod"`}
	adjust(scale, prod)
	for _, doc := range []runbooks.Document{scale, prod} {
		if _, err := store.Put(context.Background(), doc); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "remediator.yaml")
	writeKeys(t, dir)
	content := "catalog:\n  repository: ./catalog.git\ninfrastructure:\n  repository: ./infra.git\nstate_dir: ./state\n" +
		"forge:\n  type: local\n  check_reporters: [ci@example.com]\n  allowed_signers_file: ./allowed_signers\n"
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRoute(t *testing.T) {
	cfg := publishedCatalog(t)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"route", "--config", cfg, "--labels", "alertname=HighLatency,service=api-gateway,env=prod", "--value", "0.9"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	id := decision.ID("scale-out-api", "service=api-gateway")
	for _, want := range []string{"policy: production", "acting: scale-out-api (risk medium", "branch remediation/" + id, "approvals required: 1, auto-merge: no"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	code = run(context.Background(), []string{"route", "--config", cfg, "--labels", "alertname=HighLatency,service=api-gateway", "--value", "0.1", "--output", "json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var d decision.Decision
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("json output: %v\n%s", err, out.String())
	}
	if d.Acting != nil || len(d.Items) != 1 || d.Items[0].Disposition != decision.SkipCondition || d.Policy != runbooks.DefaultPolicyName {
		t.Fatalf("decision below the threshold: %+v", d)
	}
}

func TestRouteBadInput(t *testing.T) {
	cfg := publishedCatalog(t)
	for _, args := range [][]string{
		{"route", "--config", cfg},
		{"route", "--config", cfg, "--labels", "a=b", "--output", "yaml"},
		{"route", "--config", filepath.Join(t.TempDir(), "missing.yaml"), "--labels", "a=b"},
		{"route", "--config", cfg, "--labels", "novalue"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}
