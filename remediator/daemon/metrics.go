package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the reconcile loop's: what its passes did and what they left waiting.
type Metrics struct {
	// Lifecycle counts what reconcile passes did: merged, verified, failed, ...
	Lifecycle *prometheus.CounterVec
	// Waiting is how many open proposals the last pass left waiting for a gate.
	Waiting prometheus.Gauge
	// OldestWaiting is how long the oldest of them has waited.
	OldestWaiting prometheus.Gauge
	// Passes counts reconcile passes by result (ok, error).
	Passes *prometheus.CounterVec
	// Spared counts the timed passes skipped to spare the forge's rate limit.
	Spared prometheus.Counter
}

// NewMetrics registers the reconcile loop's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Lifecycle: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_lifecycle_total", Help: "Remediations by what a reconcile pass did with them (merged, closed, verified, failed, not-applied) and runbook.",
		}, []string{"action", "runbook"}),
		Waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "remediator_proposals_waiting", Help: "Open proposals the last reconcile pass left waiting for a gate (approvals, checks, windows).",
		}),
		OldestWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "remediator_oldest_waiting_proposal_seconds", Help: "Age of the oldest proposal the last reconcile pass left waiting (0 when none waits).",
		}),
		Passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_reconcile_passes_total", Help: "Reconcile passes by result (ok, error).",
		}, []string{"result"}),
		Spared: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "remediator_reconcile_passes_spared_total",
			Help: "Timed reconcile passes skipped to spare the forge's rate limit (passes that events ask for, merges and verifications among them, are never skipped).",
		}),
	}
	reg.MustRegister(m.Lifecycle, m.Waiting, m.OldestWaiting, m.Passes, m.Spared)
	return m
}
