package runbooks

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkRoute measures routing throughput over a 10,000-runbook catalog: the
// indexed router against its peer, a plain linear scan of every runbook's matchers.
func BenchmarkRoute(b *testing.B) {
	const n = 10_000
	rng := rand.New(rand.NewPCG(7, 7))
	c := genCatalog(b, n, rng)
	r, err := NewRouter(c)
	if err != nil {
		b.Fatal(err)
	}
	anomalies := make([]Anomaly, 1024)
	for i := range anomalies {
		anomalies[i] = genAnomaly(rng, n)
	}
	for _, bc := range []struct {
		name  string
		route func(Anomaly) Routing
	}{
		{"indexed", r.Route},
		{"peer=linear_scan", r.routeLinear},
	} {
		b.Run(bc.name, func(b *testing.B) {
			matched := 0
			for i := 0; i < b.N; i++ {
				matched += len(bc.route(anomalies[i%len(anomalies)]).Matches)
			}
			if matched == 0 && b.N > 100 {
				b.Fatal("nothing matched: the benchmark measures nothing")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "anomalies/s")
		})
	}
}
