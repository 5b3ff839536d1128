package worker

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the worker's: how the queue drains and what each anomaly became.
type Metrics struct {
	Decisions *prometheus.CounterVec
	Errors    prometheus.Counter
	// DeadLetters counts anomalies given up on after repeated failures.
	DeadLetters prometheus.Counter
	Duration    prometheus.Histogram
}

// NewMetrics registers the worker's metrics on reg; queueLen reports the depth of
// the queue it drains when scraped.
func NewMetrics(reg prometheus.Registerer, queueLen func() int) *Metrics {
	m := &Metrics{
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
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "remediator_queue_depth", Help: "Anomalies accepted and not yet handled.",
	}, func() float64 { return float64(queueLen()) })
	reg.MustRegister(m.Decisions, m.Errors, m.DeadLetters, m.Duration, depth)
	return m
}
