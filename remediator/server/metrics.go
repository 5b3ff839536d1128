package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the remediator's own, on a registry of its own (no global state).
type Metrics struct {
	Registry *prometheus.Registry
	Requests *prometheus.CounterVec
	Accepted *prometheus.CounterVec
	// Routed counts the alerts of accepted notifications by what the intake did with
	// them: queued, or answered without queueing because no runbook acts (no-match).
	Routed    *prometheus.CounterVec
	Decisions *prometheus.CounterVec
	Errors    prometheus.Counter
	// DeadLetters counts anomalies given up on after repeated failures.
	DeadLetters prometheus.Counter
	Queue       prometheus.GaugeFunc
	Duration    prometheus.Histogram
	// Lifecycle counts what reconcile passes did: merged, verified, failed, ...
	Lifecycle *prometheus.CounterVec
	// Waiting is how many open proposals the last pass left waiting for a gate.
	Waiting prometheus.Gauge
	// OldestWaiting is how long the oldest of them has waited.
	OldestWaiting prometheus.Gauge
	// Passes counts reconcile passes by result (ok, error).
	Passes *prometheus.CounterVec
}

// NewMetrics registers the metrics; queueLen reports the queue depth when scraped.
func NewMetrics(queueLen func() int) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_intake_requests_total", Help: "Intake requests by endpoint and HTTP status code.",
		}, []string{"endpoint", "code"}),
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_anomalies_accepted_total", Help: "Anomalies durably queued, by source.",
		}, []string{"source"}),
		Routed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_intake_alerts_total", Help: "Alerts of accepted notifications by outcome at the intake: queued, or no-match (no enabled runbook acts; answered, never queued).",
		}, []string{"outcome"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_decisions_total", Help: "Handled anomalies by outcome (opened, updated, unchanged, suppressed, suspended, closed, no-match, rejected) and acting runbook (empty for none: the catalog bounds it).",
		}, []string{"action", "runbook"}),
		Errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "remediator_processing_errors_total", Help: "Attempts to handle a queued anomaly that failed and will be retried.",
		}),
		DeadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "remediator_dead_letters_total", Help: "Anomalies moved to the dead letters after repeated failed attempts (errors or panics).",
		}),
		Duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "remediator_propose_duration_seconds", Help: "Time to handle one queued anomaly.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
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
	}
	m.Queue = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "remediator_queue_depth", Help: "Anomalies accepted and not yet handled.",
	}, func() float64 { return float64(queueLen()) })
	m.Registry.MustRegister(m.Requests, m.Accepted, m.Routed, m.Decisions, m.Errors, m.DeadLetters, m.Duration, m.Queue, m.Lifecycle, m.Waiting, m.OldestWaiting, m.Passes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
