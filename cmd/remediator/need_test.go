package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/status"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// route, reconcile and status say the same about what a proposal needs: the one
// answer of records.NeedOf, not the policy's bare count for the risk (route once
// said "approvals required: 0" where reconcile waited for "0 of 1 approval(s)").
func TestRouteReconcileAndStatusAgreeOnWhatAProposalNeeds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		adjust func(*runbooks.Runbook, *runbooks.Policy)
		want   int
		why    string
	}{
		{"the policy asks none but lets nothing merge alone", func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.Approvals.Medium = 0
		}, 1, "lets no medium-risk change merge without a human"},
		{"auto-merge allowed but not earned yet", func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.Approvals.Medium = 0
			p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 3}
		}, 1, "no auto-merge yet: runbook scale-out-api version"},
		{"two approvals and a reviewer and a check", func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.Approvals.Medium = 2
			p.Spec.RequiredReviewers = []string{"bob"}
			p.Spec.RequiredChecks = []string{"remediation/plan-check"}
		}, 2, ""},
		{"auto-merge with nothing to earn", func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.Approvals.Medium = 0
			p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium"}
		}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, id := proposed(t, tc.adjust)
			code, out, errs := cli(t, "route", "--config", cfg, "--labels", "alertname=HighLatency,service=api-gateway,env=prod", "--value", "0.9")
			if code != 0 || !strings.Contains(out, fmt.Sprintf("approvals required: %d,", tc.want)) || !strings.Contains(out, tc.why) {
				t.Fatalf("route: %d %s %s", code, out, errs)
			}
			code, out, errs = cli(t, "route", "--config", cfg, "--labels", "alertname=HighLatency,service=api-gateway,env=prod", "--value", "0.9", "--output", "json")
			var routed struct{ Need records.Need }
			if err := json.Unmarshal([]byte(out), &routed); code != 0 || err != nil {
				t.Fatalf("route json: %d %v %s %s", code, err, out, errs)
			}
			code, out, errs = cli(t, "reconcile", "--config", cfg, "--dry-run", "--output", "json")
			var o lifecycle.Result
			if err := json.Unmarshal([]byte(out), &o); code != 0 || err != nil || o.Need == nil {
				t.Fatalf("reconcile json: %d %v %s %s", code, err, out, errs)
			}
			if fmt.Sprint(*o.Need) != fmt.Sprint(routed.Need) || o.Need.Approvals != tc.want {
				t.Fatalf("route needs %+v, reconcile %+v; want %d approval(s)", routed.Need, *o.Need, tc.want)
			}
			if tc.want > 0 && (o.Action != decision.Waiting || !strings.HasPrefix(o.Reason, fmt.Sprintf("0 of %d approval(s)", tc.want)) || !strings.Contains(o.Reason, tc.why)) {
				t.Fatalf("reconcile: %+v", o)
			}
			if tc.want == 0 && o.Action != decision.WouldMerge {
				t.Fatalf("reconcile of an auto-merge: %+v", o)
			}
			_, out, _ = cli(t, "status", "--config", cfg)
			if !strings.Contains(out, id) || !strings.Contains(out, "[needs "+o.Need.String()+"]") {
				t.Fatalf("status does not say what it needs (%s):\n%s", o.Need, out)
			}
		})
	}
}

// A merged remediation without an outcome is listed under "being verified", with the
// step it waits on, by `status` and by the page, verifier configured or not.
func TestMergedUnverifiedIsBeingVerified(t *testing.T) {
	cfg, _, id := mergedThroughPipeline(t, time.Hour)
	code, out, errs := cli(t, "status", "--config", cfg)
	if code != 0 || !strings.Contains(out, "merged, being verified (1)") || !strings.Contains(out, "verifying  "+id) ||
		!strings.Contains(out, lifecycle.NoVerifier) {
		t.Fatalf("status without a verifier: %d %s %s", code, out, errs)
	}

	// With Alertmanager configured it waits on the applied check CI has not reported.
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "[]") }))
	defer am.Close()
	appendConfig(t, cfg, "alertmanager:\n  url: "+am.URL+"\n")
	_, out, _ = cli(t, "status", "--config", cfg)
	if !strings.Contains(out, "merged, being verified (1)") || !strings.Contains(out, "waiting for check terraform-apply on the merge commit") {
		t.Fatalf("status with a verifier:\n%s", out)
	}
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := statusSnapshot(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&status.Page{Snapshot: func(context.Context) (*status.Snapshot, error) { return snap, nil }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	page := string(body)
	if !strings.Contains(page, "Merged, being verified (1)") || !strings.Contains(page, id) || !strings.Contains(page, "waiting for check terraform-apply on the merge commit") {
		t.Fatalf("page:\n%s", page)
	}
}

// appendConfig adds top-level sections to a test's configuration.
func appendConfig(t *testing.T, cfg, sections string) {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, string(data)+sections)
}
