package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
)

// monitor answers as Alertmanager's API v2 (/api/v2/alerts, /api/v2/status) and
// Prometheus's HTTP API (/api/v1/query) do, with the bodies the test gives, and
// remembers the alert filters it was asked.
type monitor struct {
	mu      sync.Mutex
	alerts  string // JSON array of alerts
	uptime  time.Time
	query   string // the "data" object of a query answer
	status  int    // non-zero: every answer has this status
	filters []string
}

func (m *monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.status != 0 {
		w.WriteHeader(m.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api/v2/alerts":
		for _, k := range []string{"active", "silenced", "inhibited", "unprocessed"} {
			if r.URL.Query().Get(k) != "true" {
				http.Error(w, "the remediator must ask for "+k+" alerts too", http.StatusBadRequest)
				return
			}
		}
		m.filters = r.URL.Query()["filter"]
		fmt.Fprint(w, m.alerts)
	case "/api/v2/status":
		fmt.Fprintf(w, `{"uptime":%q,"cluster":{"status":"disabled"},"config":{"original":""},"versionInfo":{}}`, m.uptime.Format(time.RFC3339Nano))
	case "/api/v1/query":
		fmt.Fprintf(w, `{"status":"success","data":%s}`, m.query)
	default:
		http.NotFound(w, r)
	}
}

func newMonitor(t *testing.T, m *monitor) *Verifier {
	t.Helper()
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return &Verifier{Alertmanager: srv.URL, Prometheus: srv.URL, Client: srv.Client(), RestartGrace: 10 * time.Minute}
}

func merged(alertResolved bool, promql string) *artifact.Artifact {
	return &artifact.Artifact{
		ID:      "scale-out-api-1",
		Anomaly: artifact.Anomaly{Source: intake.SourceAlertmanager, Labels: map[string]string{"alertname": "HighLatency", "service": "api"}},
		Verify:  artifact.Verify{AlertResolved: alertResolved, PromQL: promql},
	}
}

const (
	noAlerts      = `[]`
	firing        = `[{"labels":{"alertname":"HighLatency","service":"api"},"status":{"state":"active","silencedBy":[],"inhibitedBy":[]}}]`
	silenced      = `[{"labels":{"alertname":"HighLatency","service":"api"},"status":{"state":"suppressed","silencedBy":["s1"],"inhibitedBy":[]}}]`
	emptyVector   = `{"resultType":"vector","result":[]}`
	oneSeries     = `{"resultType":"vector","result":[{"metric":{"service":"api"},"value":[1765000000,"0.2"]}]}`
	zeroScalar    = `{"resultType":"scalar","result":[1765000000,"0"]}`
	aMatrixAnswer = `{"resultType":"matrix","result":[]}`
)

// TestCheck: a remediation holds only when every check its runbook asks for passes;
// a silenced alert still fires (a silence hides it, it does not fix it); a query
// holds when it returns something not zero; what cannot be asked is an error, never
// a verdict.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name          string
		alertResolved bool
		promql        string
		alerts, query string
		status        int
		holds         bool
		detail, err   string
	}{
		{name: "alert resolved", alertResolved: true, alerts: noAlerts, holds: true, detail: "no longer active"},
		{name: "alert still firing", alertResolved: true, alerts: firing, detail: "1 matching alert(s) still active"},
		{name: "a silence is not a fix", alertResolved: true, alerts: silenced, detail: "still active"},
		{name: "query holds", promql: "latency < 0.5", query: oneSeries, holds: true, detail: "query holds"},
		{name: "query returns nothing", promql: "latency < 0.5", query: emptyVector, detail: "returns nothing"},
		{name: "scalar zero", promql: "0", query: zeroScalar, detail: "returns nothing"},
		{name: "a range answer is no verdict", promql: "latency[5m]", query: aMatrixAnswer, err: "want a vector or a scalar"},
		{name: "both must hold", alertResolved: true, promql: "latency < 0.5", alerts: noAlerts, query: emptyVector, detail: "no longer active; the verification query returns nothing"},
		{name: "alertmanager down", alertResolved: true, status: http.StatusServiceUnavailable, err: "Alertmanager answered 503"},
		{name: "prometheus down", promql: "up", status: http.StatusInternalServerError, err: "query Prometheus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newMonitor(t, &monitor{alerts: tc.alerts, query: tc.query, status: tc.status})
			got, err := v.Check(context.Background(), merged(tc.alertResolved, tc.promql))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q (result %+v)", err, tc.err, got)
				}
				return
			}
			if err != nil || got.Holds != tc.holds || !strings.Contains(got.Detail, tc.detail) {
				t.Fatalf("got %+v, %v; want holds=%v saying %q", got, err, tc.holds, tc.detail)
			}
		})
	}
}

// TestCheckAsksForTheAnomalysLabels: Alertmanager is asked for alerts carrying every
// label of the anomaly, quoted (a value cannot widen the filter).
func TestCheckAsksForTheAnomalysLabels(t *testing.T) {
	m := &monitor{alerts: noAlerts}
	v := newMonitor(t, m)
	a := merged(true, "")
	a.Anomaly.Labels["env"] = `prod",service=~".*`
	if _, err := v.Check(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	want := []string{`alertname="HighLatency"`, `env="prod\",service=~\".*"`, `service="api"`}
	if strings.Join(m.filters, " ") != strings.Join(want, " ") {
		t.Fatalf("filters %q, want %q", m.filters, want)
	}
}

// TestCheckNeedsItsConfiguration: a check the configuration cannot ask is an error
// naming the setting, not a pass.
func TestCheckNeedsItsConfiguration(t *testing.T) {
	v := &Verifier{}
	if _, err := v.Check(context.Background(), merged(true, "")); err == nil || !strings.Contains(err.Error(), "alertmanager.url") {
		t.Fatalf("err = %v, want one naming alertmanager.url", err)
	}
	if _, err := v.Check(context.Background(), merged(false, "up")); err == nil || !strings.Contains(err.Error(), "prometheus.url") {
		t.Fatalf("err = %v, want one naming prometheus.url", err)
	}
}

// TestResolved: an Alertmanager alert that no longer fires is resolved, unless
// Alertmanager restarted within the grace (it has not heard again of what fires);
// an anomaly from elsewhere is never judged by Alertmanager.
func TestResolved(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		source string
		alerts string
		uptime time.Time
		want   bool
	}{
		{name: "gone", source: intake.SourceAlertmanager, alerts: noAlerts, uptime: now.Add(-time.Hour), want: true},
		{name: "still firing", source: intake.SourceAlertmanager, alerts: firing, uptime: now.Add(-time.Hour)},
		{name: "alertmanager just restarted", source: intake.SourceAlertmanager, alerts: noAlerts, uptime: now.Add(-time.Minute)},
		{name: "not an alertmanager alert", source: "generic", alerts: noAlerts, uptime: now.Add(-time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newMonitor(t, &monitor{alerts: tc.alerts, uptime: tc.uptime})
			a := merged(true, "")
			a.Anomaly.Source = tc.source
			got, why, err := v.Resolved(context.Background(), a, now)
			if err != nil || got != tc.want || (got && why == "") {
				t.Fatalf("got %v (%q), %v; want %v", got, why, err, tc.want)
			}
		})
	}
}
