// Command latency-exporter is the demo's stand-in for a slow service: it exposes one
// gauge, demo_latency_seconds, for Prometheus to scrape, and lets the demo set it
// (POST /set?value=0.2), so a real alert fires and later resolves.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9101", "address to serve /metrics and /set on")
	value := flag.Float64("value", 0.82, "the starting p99 latency in seconds")
	labels := flag.String("labels", `service=api-search,cluster=eu1,env=staging`, "constant labels of the gauge, k=v,...")
	flag.Parse()

	constLabels := prometheus.Labels{}
	for _, kv := range strings.Split(*labels, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			log.Fatalf("-labels: %q is not k=v", kv)
		}
		constLabels[k] = v
	}
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "demo_latency_seconds", Help: "p99 latency of the demo service.", ConstLabels: constLabels})
	gauge.Set(*value)
	reg := prometheus.NewRegistry()
	reg.MustRegister(gauge)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		v, err := strconv.ParseFloat(r.URL.Query().Get("value"), 64)
		if err != nil {
			http.Error(w, "value: "+err.Error(), http.StatusBadRequest)
			return
		}
		gauge.Set(v)
		fmt.Fprintf(w, "demo_latency_seconds = %g\n", v)
	})
	if err := serve(&http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}); err != nil {
		log.Fatal(err)
	}
}

// serve runs the server until SIGINT or SIGTERM.
func serve(srv *http.Server) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
