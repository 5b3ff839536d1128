package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the intake's: what arrives over HTTP and what becomes of it at the
// door. The stages behind it (worker, daemon, notify, the forge's budget) declare
// their own on the same registry.
type Metrics struct {
	Requests *prometheus.CounterVec
	Accepted *prometheus.CounterVec
	// Routed counts the alerts of accepted notifications by what the intake did with
	// them: queued, or answered without queueing because no runbook acts (no-match).
	Routed *prometheus.CounterVec
}

// NewMetrics registers the intake's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_intake_requests_total", Help: "Intake requests by endpoint and HTTP status code.",
		}, []string{"endpoint", "code"}),
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_anomalies_accepted_total", Help: "Anomalies durably queued, by source.",
		}, []string{"source"}),
		Routed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_intake_alerts_total", Help: "Alerts of accepted notifications by outcome at the intake: queued, or no-match (no enabled runbook acts; answered, never queued).",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.Requests, m.Accepted, m.Routed)
	return m
}
