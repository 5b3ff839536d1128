package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

// BenchmarkServeStorm is an alert storm into the real `remediator serve`: 10,000
// distinct alerts, every one of them actionable (one runbook, 10,000 targets), as 100
// notifications of 100, under a policy that sets no limits. It reports the alerts
// accepted per second over HTTP and the peak RSS, and checks that the proposals
// opened stop at the remediator's configured bound (limits.max_open 20) while the
// rest is suppressed. s-to-bound is the wall time from the first notification to the
// twentieth proposal: the worker's proposals, each pushed with its reservation,
// beside the intake (not in alerts/s, whose timer stops after the last 202). The
// peer is plain encoding/json decoding of the same bodies.
func BenchmarkServeStorm(b *testing.B) {
	bodies := make([]string, 100)
	for n := range bodies {
		alerts := make([]string, 100)
		for i := range alerts {
			s := n*100 + i
			alerts[i] = fmt.Sprintf(`{"status":"firing","labels":{"alertname":"HighLatency","service":"api-s%d","env":"prod"},"annotations":{"value":"0.9"},"startsAt":"2026-11-24T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"f%d"}`, s, s)
		}
		bodies[n] = `{"version":"4","groupKey":"g` + strconv.Itoa(n) + `","truncatedAlerts":0,"status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","alerts":[` + strings.Join(alerts, ",") + `]}`
	}
	b.Run("serve", func(b *testing.B) {
		var toBound time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			cfg := publishedCatalog(b)
			infra := infraRepoTB(b, cfg, 40)
			data, err := os.ReadFile(cfg)
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(cfg, append(data, []byte("limits: {max_open: 20, per_hour: 0, max_open_per_runbook: 0, per_hour_per_runbook: 0}\nintake: {max_queued: 20000, max_body_bytes: 4194304}\n")...), 0o600); err != nil {
				b.Fatal(err)
			}
			addr := freeAddr(b)
			stop := startServe(b, cfg, addr, "--reconcile-interval", "0")
			b.StartTimer()
			start := time.Now()
			for _, body := range bodies {
				if code, resp := post(b, addr, "/v1/alertmanager", "", body); code != 202 {
					b.Fatalf("%d %s", code, resp)
				}
			}
			b.StopTimer()
			waitFor(b, "the bound of 20 proposals", func() bool { return len(proposalBranches(b, infra)) >= 20 })
			toBound += time.Since(start)
			time.Sleep(2 * time.Second) // the worker goes on suppressing; nothing more opens
			if n := len(proposalBranches(b, infra)); n != 20 {
				b.Fatalf("%d proposals opened, want the bound 20", n)
			}
			b.ReportMetric(20, "proposals")
			stop()
			b.StartTimer()
		}
		b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "alerts/s")
		b.ReportMetric(testenv.PeakRSSMB(), "peak-RSS-MB")
		b.ReportMetric(toBound.Seconds()/float64(b.N), "s-to-bound")
	})
	b.Run("peer=json_decode", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, body := range bodies {
				var m map[string]any
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "alerts/s")
	})
}

// infraRepoTB is infraRepo with n more services, api-s0 .. api-s<n-1>.
func infraRepoTB(tb testing.TB, cfg string, n int) string {
	tb.Helper()
	infra := infraRepo(tb, cfg)
	work := filepath.Join(tb.TempDir(), "w")
	gittest.Run(tb, "", "clone", "-q", infra, work)
	for i := 0; i < n; i++ {
		gittest.WriteFile(tb, filepath.Join(work, "envs", fmt.Sprintf("api-s%d.auto.tfvars", i)), "replicas = 2\n")
	}
	gittest.Run(tb, work, "add", "-A")
	gittest.Run(tb, work, "commit", "-qm", "services")
	gittest.Run(tb, work, "push", "-q", "origin", "main")
	return infra
}
