package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry is the registry GET /metrics serves (no global state): the process's
// and the Go runtime's metrics and remediator_build_info. Each stage registers its
// own metrics on it (server.NewMetrics, worker.NewMetrics, daemon.NewMetrics, ...).
func NewRegistry(version, revision string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		BuildInfo(version, revision))
	return reg
}
