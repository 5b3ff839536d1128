package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
)

// jaeger starts a real Jaeger (built from source by `make tools`) with its OTLP/HTTP
// receiver and query API on loopback, and returns both addresses.
func jaeger(t *testing.T) (otlp, query string) {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", ".tools", "bin", "jaeger"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no jaeger at %s: run make tools", bin)
	}
	otlp, query, health, grpcQuery := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "jaeger.yaml")
	writeFile(t, cfg, fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: %s
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: %s
    grpc:
      endpoint: %s
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, health, query, grpcQuery, otlp))
	startDaemon(t, bin, "--config", cfg)
	waitHTTP(t, "http://"+query+"/api/services")
	return "http://" + otlp, "http://" + query
}

// jaegerTrace is the part of Jaeger's query API answer the test reads.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		OperationName string `json:"operationName"`
		Tags          []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
	} `json:"spans"`
}

func traces(t *testing.T, query, service string) []jaegerTrace {
	t.Helper()
	resp, err := http.Get(query + "/api/traces?limit=50&service=" + service)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data []jaegerTrace `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Data
}

// One anomaly, one trace, across processes and passes: serve's intake, queue and
// proposal, then a `reconcile` process's gates and merge, found in a real Jaeger
// through its query API with the remediation id on the spans.
func TestTraceOfARemediationInJaeger(t *testing.T) {
	otlp, query := jaeger(t)
	service := "remediator-test"
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp)
	t.Setenv("OTEL_SERVICE_NAME", service)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
	cfg := publishedCatalog(t)
	infra := infraRepo(t, cfg)
	addr := freeAddr(t)
	stop := startServe(t, cfg, addr, "--reconcile-interval", "0")
	t.Cleanup(stop)
	postAlert(t, addr, alert("api-gateway"))
	id := decision.ID("scale-out-api", "service=api-gateway")
	waitFor(t, "the proposal", func() bool {
		_, err := gittest.Output(infra, "rev-parse", "--verify", "-q", decision.Branch(id))
		return err == nil
	})
	art := gittest.Run(t, infra, "show", decision.Branch(id)+":.remediations/"+id+".yaml")
	if !strings.Contains(art, "trace_parent: 00-") {
		t.Fatalf("the artifact records no trace:\n%s", art)
	}
	if code, _, errs := cli(t, "approve", "--config", cfg, "--id", id, "--key", keyOf(cfg, "alice")); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := cli(t, "reconcile", "--config", cfg, "--log-format", "json")
	if code != 0 || !strings.Contains(out, "merged: ") {
		t.Fatalf("reconcile: %d %s %s", code, out, errs)
	}
	stop() // flushes serve's spans
	want := []string{"anomaly", "intake", "queue.handle", "propose", "route", "edit", "commit", "push", "forge.open", "reconcile", "gates", "merge"}
	var found jaegerTrace
	waitFor(t, "the trace in Jaeger", func() bool {
		for _, tr := range traces(t, query, service) {
			ops := map[string]bool{}
			tagged := false
			for _, s := range tr.Spans {
				ops[s.OperationName] = true
				for _, tag := range s.Tags {
					if tag.Key == "remediation.id" && tag.Value == id {
						tagged = true
					}
				}
			}
			all := tagged
			for _, w := range want {
				all = all && ops[w]
			}
			if all {
				found = tr
				return true
			}
		}
		return false
	})
	// The reconcile process logged the same trace id.
	if !strings.Contains(errs, `"trace_id":"`+found.TraceID+`"`) {
		t.Errorf("reconcile's logs do not carry trace %s:\n%s", found.TraceID, errs)
	}
	var ops []string
	for _, s := range found.Spans {
		ops = append(ops, s.OperationName)
	}
	slices.Sort(ops)
	t.Logf("trace %s: %s", found.TraceID, strings.Join(ops, ", "))
}
