package server

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// BuildInfo is remediator_build_info: always 1, labelled with the running version,
// commit and Go version, so a dashboard or an alert can tell which release each
// replica runs (during a rollout, two at once).
func BuildInfo(version, revision string) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "remediator_build_info",
		Help: "A metric with a constant 1 labelled by the version, revision and Go version the remediator was built from.",
		ConstLabels: prometheus.Labels{
			"version": version, "revision": revision, "goversion": runtime.Version(),
		},
	}, func() float64 { return 1 })
}
