package notify

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the notifier's and the time-to-remediate figures.
type Metrics struct {
	// Notifications counts deliveries by receiver, integration and outcome:
	// delivered, retried (an attempt failed, another follows), given-up.
	Notifications *prometheus.CounterVec
	// Queued is how many events each receiver has yet to be told.
	Queued *prometheus.GaugeVec
	// CaughtUp counts the events a catch-up queued: events lost between an action
	// and its queueing (a crash), by kind. Anything above 0 says a replica died
	// mid-step.
	CaughtUp *prometheus.CounterVec
	// Latency is the time from the event to its delivery.
	Latency *prometheus.HistogramVec
	// TimeTo is the time from an anomaly's start to its proposal, merge and
	// verification, per runbook, each observed once by the replica that did it.
	TimeTo map[Stage]*prometheus.HistogramVec
}

// ttrBuckets span 30 s to about 1.4 days: a quick auto-merge to a weekend's wait
// for an approval.
var ttrBuckets = prometheus.ExponentialBuckets(30, 2, 13)

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_notifications_total", Help: "Notification deliveries by receiver, integration and outcome (delivered, retried, given-up).",
		}, []string{"receiver", "integration", "outcome"}),
		Queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "remediator_notifications_queued", Help: "Events queued for a receiver and not yet delivered.",
		}, []string{"receiver"}),
		CaughtUp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_notifications_caught_up_total", Help: "Events queued by a catch-up from Git and forge state, by kind: lost between the action and its queueing.",
		}, []string{"kind"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "remediator_notification_latency_seconds", Help: "Time from an event to its delivery to a receiver.",
			Buckets: prometheus.ExponentialBuckets(0.05, 4, 10),
		}, []string{"integration"}),
		TimeTo: map[Stage]*prometheus.HistogramVec{},
	}
	for _, s := range []struct {
		stage Stage
		help  string
	}{
		{ToPropose, "Time from an anomaly's start to its remediation's proposal, per runbook."},
		{ToMerge, "Time from an anomaly's start to its remediation's merge, per runbook."},
		{ToVerify, "Time from an anomaly's start to its remediation's verified outcome, per runbook."},
	} {
		m.TimeTo[s.stage] = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "remediator_time_to_" + string(s.stage) + "_seconds", Help: s.help, Buckets: ttrBuckets,
		}, []string{"runbook"})
		reg.MustRegister(m.TimeTo[s.stage])
	}
	reg.MustRegister(m.Notifications, m.Queued, m.CaughtUp, m.Latency)
	return m
}

// observe records an event's time to remediate: each stage once, on the event that
// reaches it.
func (m *Metrics) observe(e *Event) {
	if m == nil {
		return
	}
	stage := map[Kind]Stage{ProposalWaiting: ToPropose, Merged: ToMerge, Verified: ToVerify}[e.Kind]
	if stage == "" {
		return
	}
	if d, ok := e.Times.Since()[stage]; ok {
		m.TimeTo[stage].WithLabelValues(e.Runbook).Observe(d.Seconds())
	}
}

func (m *Metrics) caughtUp(k Kind) {
	if m != nil {
		m.CaughtUp.WithLabelValues(string(k)).Inc()
	}
}
