package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
)

// notification is an Alertmanager webhook body with one alert per alertname.
func notification(names ...string) string {
	var alerts []string
	for i, n := range names {
		alerts = append(alerts, fmt.Sprintf(`{"status":"firing","labels":{"alertname":%q,"service":"svc-%d"},"annotations":{},
"startsAt":"2026-11-24T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"f%d"}`, n, i, i))
	}
	return `{"version":"4","groupKey":"g","truncatedAlerts":0,"status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},
"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","alerts":[` + strings.Join(alerts, ",") + `]}`
}

// onlyHighLatency is a catalog's answer where one runbook acts on HighLatency.
func onlyHighLatency(a intake.Anomaly) intake.Disposition {
	if a.Labels["alertname"] == "HighLatency" {
		return ""
	}
	return intake.NoMatch
}

func newIntake(t testing.TB, route func(intake.Anomaly) intake.Disposition) (*httptest.Server, *queue.Queue, *Metrics, string) {
	dir := filepath.Join(t.TempDir(), "queue")
	q, err := queue.Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry("test", "test")
	m := NewMetrics(reg)
	h := New(Options{Queue: q, Metrics: m, Gatherer: reg, Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 22,
		Ready: func() error { return nil }, Now: time.Now, Route: route})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, q, m, dir
}

func postBody(t testing.TB, c *http.Client, url, body string) (int, string) {
	resp, err := c.Post(url+"/v1/alertmanager", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// Alerts no runbook acts on are answered and counted, never written to disk; the
// actionable ones of a notification are written together, in one file.
func TestIntakeRoutesBeforeQueueing(t *testing.T) {
	srv, q, m, dir := newIntake(t, onlyHighLatency)
	code, body := postBody(t, srv.Client(), srv.URL, notification("DiskFull", "CPUHigh", "Noise"))
	if code != http.StatusAccepted || !strings.Contains(body, `"accepted":3`) || !strings.Contains(body, `"queued":[]`) || !strings.Contains(body, `"no-match":3`) {
		t.Fatalf("%d %s", code, body)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 || q.Len() != 0 {
		t.Fatalf("alerts nothing acts on were written: %d files", len(files))
	}
	code, body = postBody(t, srv.Client(), srv.URL, notification("HighLatency", "Noise", "HighLatency"))
	if code != http.StatusAccepted || !strings.Contains(body, `"accepted":3`) || strings.Count(body, `.json`) != 0 {
		t.Fatalf("%d %s", code, body)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 || q.Len() != 2 {
		t.Fatalf("two actionable alerts of one notification: %d files, %d queued", len(files), q.Len())
	}
	items, err := q.Pending()
	if err != nil || len(items) != 2 || items[0].Anomaly.Labels["service"] != "svc-0" || items[1].Anomaly.Labels["service"] != "svc-2" {
		t.Fatalf("queued %+v %v", items, err)
	}
	if got := testutil.ToFloat64(m.Routed.WithLabelValues(string(intake.NoMatch))); got != 4 {
		t.Fatalf("no-match counted %v, want 4", got)
	}
	if got := testutil.ToFloat64(m.Routed.WithLabelValues(string(intake.Queued))); got != 2 {
		t.Fatalf("queued counted %v, want 2", got)
	}
}

// Without a catalog (not loaded yet) everything is queued: the worker routes later.
func TestIntakeQueuesEverythingWithoutACatalog(t *testing.T) {
	srv, q, _, _ := newIntake(t, nil)
	if code, body := postBody(t, srv.Client(), srv.URL, notification("DiskFull", "HighLatency")); code != http.StatusAccepted {
		t.Fatalf("%d %s", code, body)
	}
	if q.Len() != 2 {
		t.Fatalf("queued %d", q.Len())
	}
}

// A notification with one alert whose value is NaN still queues its good alerts, once:
// the bad one is ignored and said so, and the sender gets no reason to resend.
func TestIntakeIgnoresAnAlertWithAnUnusableValue(t *testing.T) {
	srv, q, m, _ := newIntake(t, onlyHighLatency)
	body := strings.Replace(notification("HighLatency", "HighLatency", "HighLatency"), `"annotations":{}`, `"annotations":{"value":"NaN"}`, 1)
	code, resp := postBody(t, srv.Client(), srv.URL, body)
	if code != http.StatusAccepted || !strings.Contains(resp, `alerts[0].annotations.value: \"NaN\" is not a finite number`) || !strings.Contains(resp, `"bad-value":1`) {
		t.Fatalf("%d %s", code, resp)
	}
	items, _ := q.Pending()
	if len(items) != 2 || items[0].Anomaly.Labels["service"] != "svc-1" || items[1].Anomaly.Labels["service"] != "svc-2" {
		t.Fatalf("queued %+v", items)
	}
	if got := testutil.ToFloat64(m.Routed.WithLabelValues(string(intake.BadValue))); got != 1 {
		t.Fatalf("bad-value counted %v", got)
	}
	// +Inf and a word are as unusable.
	for _, v := range []string{"+Inf", "-inf", "1e999", "fast"} {
		body := strings.Replace(notification("HighLatency"), `"annotations":{}`, `"annotations":{"value":"`+v+`"}`, 1)
		if code, resp := postBody(t, srv.Client(), srv.URL, body); code != http.StatusAccepted || !strings.Contains(resp, `"bad-value":1`) {
			t.Fatalf("%s: %d %s", v, code, resp)
		}
	}
	if q.Len() != 2 {
		t.Fatalf("queued %d", q.Len())
	}
}

// A full queue answers 429 with Retry-After: Alertmanager retries, nothing is lost,
// and memory stays bounded.
func TestIntakeAnswers429WhenTheQueueIsFull(t *testing.T) {
	srv, q, _, _ := newIntake(t, onlyHighLatency)
	q.SetLimit(2)
	if code, body := postBody(t, srv.Client(), srv.URL, notification("HighLatency")); code != http.StatusAccepted {
		t.Fatalf("%d %s", code, body)
	}
	resp, err := srv.Client().Post(srv.URL+"/v1/alertmanager", "application/json", strings.NewReader(notification("HighLatency", "HighLatency")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "30" || q.Len() != 1 {
		t.Fatalf("full queue: %d Retry-After %q, %d queued", resp.StatusCode, resp.Header.Get("Retry-After"), q.Len())
	}
	// Alerts nothing acts on still get their answer: they need no room.
	if code, body := postBody(t, srv.Client(), srv.URL, notification("Noise", "Noise", "Noise")); code != http.StatusAccepted {
		t.Fatalf("%d %s", code, body)
	}
}
