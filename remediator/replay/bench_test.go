package replay_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/replay"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// benchCatalog has n runbooks (one alert each, per service, 30m cooldown) under a
// production policy with limits and a staging one that auto-merges low risk.
func benchCatalog(b *testing.B, n int) (*runbooks.Catalog, *runbooks.Router) {
	b.Helper()
	rbs := make([]*runbooks.Runbook, n)
	for i := range rbs {
		rb := runbooks.NewRunbook(fmt.Sprintf("rb-%04d", i))
		rb.Spec.Risk = runbooks.Risks()[i%4]
		rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{fmt.Sprintf(`alertname="Alert%d"`, i)}, GroupBy: []string{"service"}}
		rb.Spec.Changes = []runbooks.Change{{Kind: "yaml", File: "k8s/{{ .labels.service }}.yaml", Path: "spec.replicas", Value: "current + 1"}}
		rb.Spec.Cooldown = runbooks.Duration(30 * time.Minute)
		rbs[i] = rb
	}
	prod := runbooks.NewPolicy("production")
	prod.Spec.Selector.Matchers = []string{`env="prod"`}
	prod.Spec.Priority = 10
	prod.Spec.Limits = runbooks.Limits{MaxOpen: 50, PerHour: 30}
	staging := runbooks.NewPolicy("staging")
	staging.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 1}
	staging.Spec.CircuitBreaker = runbooks.CircuitBreaker{Failures: 2, Window: runbooks.Duration(time.Hour), Cooldown: runbooks.Duration(time.Hour)}
	cat, err := runbooks.NewCatalog(rbs, []*runbooks.Policy{prod, staging})
	if err != nil {
		b.Fatal(err)
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		b.Fatal(err)
	}
	return cat, router
}

// BenchmarkReplay replays a week of 10,000 anomalies against 1,000 runbooks; the
// peer routes the same anomalies alone, the floor of any replay.
func BenchmarkReplay(b *testing.B) {
	const runbookCount, anomalyCount = 1000, 10_000
	cat, router := benchCatalog(b, runbookCount)
	rng := rand.New(rand.NewPCG(3, 4))
	week := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	in := make([]intake.Anomaly, anomalyCount)
	for i := range in {
		start := week.Add(time.Duration(rng.Int64N(int64(7 * 24 * time.Hour))))
		in[i] = intake.Anomaly{
			Labels: map[string]string{
				"alertname": fmt.Sprintf("Alert%d", rng.IntN(runbookCount*12/10)), // a sixth match nothing
				"service":   fmt.Sprintf("svc-%d", rng.IntN(40)),
				"env":       []string{"prod", "staging"}[rng.IntN(2)],
			},
			Status: intake.StatusFiring, StartsAt: start, EndsAt: start.Add(time.Duration(5+rng.IntN(55)) * time.Minute),
		}
		if rng.IntN(20) == 0 {
			in[i].Annotations = map[string]string{replay.OutcomeAnnotation: string(forge.OutcomeFailed)}
		}
	}
	// A history comes in time order (Prometheus' source sorts it; files are written
	// as alerts happen), and both sides visit it in that order.
	slices.SortFunc(in, func(a, b intake.Anomaly) int { return a.StartsAt.Compare(b.StartsAt) })
	streaks := map[string]int{}
	for _, rb := range cat.Runbooks {
		streaks[rb.Metadata.Name] = 1
	}
	b.Run("replay", func(b *testing.B) {
		var rep *replay.Report
		for range b.N {
			rep = replay.NewReport("bench", replay.Run(cat, router, in, replay.Options{Outcome: replay.OutcomeOf, Streaks: streaks}))
		}
		if rep.Proposals() == 0 || rep.Totals[decision.Suppressed] == 0 || rep.Totals[decision.AutoMerged] == 0 || rep.Totals[decision.NoMatch] == 0 {
			b.Fatalf("the replay exercised too little: %v", rep.Totals)
		}
		b.ReportMetric(float64(anomalyCount*b.N)/b.Elapsed().Seconds(), "anomalies/s")
	})
	b.Run("peer=route_only", func(b *testing.B) {
		acting := 0
		for range b.N {
			for _, a := range in {
				if d := decision.Decide(router, a.Subject()); d.Acting != nil {
					acting++
				}
			}
		}
		if acting == 0 {
			b.Fatal("nothing routed")
		}
		b.ReportMetric(float64(anomalyCount*b.N)/b.Elapsed().Seconds(), "anomalies/s")
	})
}
