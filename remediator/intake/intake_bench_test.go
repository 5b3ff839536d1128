package intake

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// BenchmarkIntakeAndRoute measures what serve does per webhook before queueing:
// strict decoding of an Alertmanager payload plus routing of each alert over a
// 1,000-runbook catalog, against its peer, plain encoding/json decoding of the same
// payloads into a generic map.
func BenchmarkIntakeAndRoute(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	payloads := make([][]byte, 256)
	for i := range payloads {
		payloads[i] = []byte(fmt.Sprintf(`{"version":"4","groupKey":"g","truncatedAlerts":0,"status":"firing","receiver":"r",
"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093",
"alerts":[{"status":"firing","labels":{"alertname":"Alert%d","service":"svc-%d","env":"prod","instance":"10.0.0.%d:9100"},
"annotations":{"summary":"s","value":"%d"},"startsAt":"2026-11-24T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"f%d"}]}`,
			rng.IntN(1000), rng.IntN(100), rng.IntN(255), rng.IntN(100), i))
	}
	var rbs []*runbooks.Runbook
	for i := 0; i < 1000; i++ {
		rb := runbooks.NewRunbook(fmt.Sprintf("rb-%04d", i))
		rb.Spec.Risk = runbooks.RiskLow
		rb.Spec.Trigger.Matchers = []string{fmt.Sprintf(`alertname="Alert%d"`, i), `env=~"prod|staging"`}
		rb.Spec.Trigger.GroupBy = []string{"service"}
		rb.Spec.Changes = []runbooks.Change{{Kind: "json", File: "a.json", Path: "a", Value: "1"}}
		rbs = append(rbs, rb)
	}
	cat, err := runbooks.NewCatalog(rbs, nil)
	if err != nil {
		b.Fatal(err)
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("intake_and_route", func(b *testing.B) {
		matched := 0
		for i := 0; i < b.N; i++ {
			as, err := ParseAlertmanager(payloads[i%len(payloads)])
			if err != nil {
				b.Fatal(err)
			}
			for _, a := range as {
				matched += len(router.Route(a.Subject()).Matches)
			}
		}
		if matched == 0 && b.N > 100 {
			b.Fatal("nothing routed")
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
	})
	b.Run("peer=json_decode", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var m map[string]any
			if err := json.Unmarshal(payloads[i%len(payloads)], &m); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
	})
}
