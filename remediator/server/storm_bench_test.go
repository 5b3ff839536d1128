package server

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// BenchmarkIntakeStorm is an Alertmanager in a storm as serve sees it: 100
// notifications of 100 alerts each (10,000 alerts, 2% of them actionable), posted one
// after another over HTTP to the real handler, routed by a 1,000-runbook catalog, the
// actionable ones written to the real queue with its fsyncs. Its peer is plain
// encoding/json decoding of the same bodies. One op is the whole storm.
func BenchmarkIntakeStorm(b *testing.B) {
	bodies := stormBodies()
	route := stormRoute(b)
	b.Run("http_route_queue", func(b *testing.B) {
		srv, q, _, _ := newIntake(b, route)
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for _, body := range bodies {
				if code, resp := postBody(b, c, srv.URL, body); code != http.StatusAccepted {
					b.Fatalf("%d %s", code, resp)
				}
			}
		}
		b.StopTimer()
		if q.Len() != 200*b.N {
			b.Fatalf("%d queued, want %d", q.Len(), 200*b.N)
		}
		b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "alerts/s")
		b.ReportMetric(testenv.PeakRSSMB(), "peak-RSS-MB")
	})
	b.Run("peer=json_decode", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, body := range bodies {
				var m map[string]any
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "alerts/s")
	})
}

// stormBodies are 100 notifications of 100 alerts; alerts 0 and 50 of each are
// HighLatency (a runbook acts), the others belong to no runbook.
func stormBodies() []string {
	rng := rand.New(rand.NewPCG(7, 8))
	bodies := make([]string, 100)
	for n := range bodies {
		var alerts []string
		for i := 0; i < 100; i++ {
			name := fmt.Sprintf("Unrouted%d", rng.IntN(5000))
			if i%50 == 0 {
				name = "HighLatency"
			}
			alerts = append(alerts, fmt.Sprintf(`{"status":"firing","labels":{"alertname":%q,"service":"svc-%d-%d","env":"prod","instance":"10.0.%d.%d:9100"},
"annotations":{"summary":"storm","value":"%d"},"startsAt":"2026-11-24T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"f%d-%d"}`,
				name, n, i, n, i, rng.IntN(100), n, i))
		}
		bodies[n] = `{"version":"4","groupKey":"g` + strconv.Itoa(n) + `","truncatedAlerts":0,"status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},
"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","alerts":[` + strings.Join(alerts, ",") + `]}`
	}
	return bodies
}

// stormRoute asks a 1,000-runbook catalog, as serve does.
func stormRoute(b *testing.B) func(intake.Anomaly) intake.Disposition {
	var rbs []*runbooks.Runbook
	for i := 0; i < 1000; i++ {
		rb := runbooks.NewRunbook(fmt.Sprintf("rb-%04d", i))
		rb.Spec.Risk = runbooks.RiskLow
		rb.Spec.Trigger.Matchers = []string{fmt.Sprintf(`alertname="Alert%d"`, i), `env=~"prod|staging"`}
		rb.Spec.Trigger.GroupBy = []string{"service"}
		rb.Spec.Changes = []runbooks.Change{{Kind: "json", File: "a.json", Path: "a", Value: "1"}}
		rbs = append(rbs, rb)
	}
	hl := runbooks.NewRunbook("scale-out")
	hl.Spec.Risk = runbooks.RiskLow
	hl.Spec.Trigger.Matchers = []string{`alertname="HighLatency"`}
	hl.Spec.Trigger.GroupBy = []string{"service"}
	hl.Spec.Changes = []runbooks.Change{{Kind: "json", File: "a.json", Path: "a", Value: "1"}}
	cat, err := runbooks.NewCatalog(append(rbs, hl), nil)
	if err != nil {
		b.Fatal(err)
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		b.Fatal(err)
	}
	return func(a intake.Anomaly) intake.Disposition {
		if decision.Decide(router, a.Subject()).Acting == nil {
			return intake.NoMatch
		}
		return ""
	}
}
