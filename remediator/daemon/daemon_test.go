package daemon

import (
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// loaded is a daemon whose catalog has loaded: one runbook acting on HighLatency.
func loaded(t *testing.T) *Daemon {
	t.Helper()
	rb := runbooks.NewRunbook("scale-out")
	rb.Spec.Risk = runbooks.RiskLow
	rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`}, GroupBy: []string{"service"}}
	rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current + 1"}}
	cat, err := runbooks.NewCatalog([]*runbooks.Runbook{rb}, nil)
	if err != nil {
		t.Fatal(err)
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: NewMetrics(prometheus.NewRegistry())})
	c.p = &propose.Proposer{Catalog: cat, Router: router}
	return c
}

func alert(name string, status string) intake.Anomaly {
	return intake.Anomaly{Labels: map[string]string{"alertname": name, "service": "api"}, Status: status}
}

// TestRouteAnswersAtTheDoor: the intake queues what a runbook acts on and answers
// the rest (no-match) without writing it to disk; before the catalog loads it queues
// everything (the worker routes later); a resolved alert asks for a pass, since a
// merged remediation's verification may wait for it.
func TestRouteAnswersAtTheDoor(t *testing.T) {
	c := loaded(t)
	if got := c.Route(alert("HighLatency", intake.StatusFiring)); got != "" {
		t.Errorf("an alert a runbook acts on: %q, want it queued", got)
	}
	if got := c.Route(alert("DiskFull", intake.StatusFiring)); got != intake.NoMatch {
		t.Errorf("an alert no runbook acts on: %q, want %q", got, intake.NoMatch)
	}
	select {
	case <-c.kick:
		t.Fatal("a firing alert asked for a pass")
	default:
	}
	c.Route(alert("DiskFull", intake.StatusResolved))
	select {
	case <-c.kick:
	default:
		t.Fatal("a resolved alert asked for no pass")
	}
	unloaded := New(Options{})
	if got := unloaded.Route(alert("DiskFull", intake.StatusFiring)); got != "" {
		t.Errorf("before the catalog loads: %q, want it queued", got)
	}
}

// TestCountKeepsTheLoopsMetrics: each pass is counted by result; what it did is
// counted by action and runbook; a failed pass leaves the gauges of the last good
// one.
func TestCountKeepsTheLoopsMetrics(t *testing.T) {
	c := loaded(t)
	m := c.o.Metrics
	c.count([]lifecycle.Result{
		{ID: "scale-out-0123456789", Action: decision.Merged},
		{ID: "scale-out-abcdefghij", Action: decision.Closed},
	}, nil)
	if got := testutil.ToFloat64(m.Passes.WithLabelValues("ok")); got != 1 {
		t.Errorf("ok passes %v", got)
	}
	if got := testutil.ToFloat64(m.Lifecycle.WithLabelValues(string(decision.Merged), "scale-out")); got != 1 {
		t.Errorf("merged %v, want 1 for runbook scale-out", got)
	}
	if got := testutil.ToFloat64(m.Waiting); got != 0 {
		t.Errorf("waiting %v", got)
	}
	m.Waiting.Set(3)
	c.count(nil, io.ErrUnexpectedEOF)
	if got := testutil.ToFloat64(m.Passes.WithLabelValues("error")); got != 1 {
		t.Errorf("failed passes %v", got)
	}
	if got := testutil.ToFloat64(m.Waiting); got != 3 {
		t.Errorf("a failed pass changed the waiting gauge to %v", got)
	}
}
