package notify

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// receiver is a local webhook receiver: it answers with what the test scripts and
// records every request.
type receiver struct {
	mu       sync.Mutex
	answers  []func(w http.ResponseWriter) // one per request, then 200
	requests []request
}

type request struct {
	at     time.Time
	path   string
	header http.Header
	body   []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests = append(rc.requests, request{at: time.Now(), path: r.URL.Path, header: r.Header.Clone(), body: body})
	var answer func(http.ResponseWriter)
	if len(rc.answers) > 0 {
		answer, rc.answers = rc.answers[0], rc.answers[1:]
	}
	rc.mu.Unlock()
	if answer != nil {
		answer(w)
	}
}

func (rc *receiver) got() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.requests...)
}

func status(code int, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// secretPath is in every webhook URL of the tests: it must show nowhere.
const secretPath = "/services/T0000/B0000/s3cr3tW3bh00kT0k3n"

func start(t *testing.T, dir string, rcv http.Handler, logs io.Writer, reg prometheus.Registerer, backoff func(int) time.Duration) (*Dispatcher, func()) {
	t.Helper()
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	return startAt(t, dir, srv.URL+secretPath, logs, reg, backoff)
}

func startAt(t *testing.T, dir, url string, logs io.Writer, reg prometheus.Registerer, backoff func(int) time.Duration) (*Dispatcher, func()) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var m *Metrics
	if reg != nil {
		m = NewMetrics(reg)
	}
	d, err := New(Options{Dir: dir, Metrics: m, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backoff: backoff, Poll: 50 * time.Millisecond, Receivers: []Receiver{
			{Name: "chat", Integration: "slack", Notifier: &Slack{URL: url, Client: client}},
			{Name: "ops", Integration: "teams", Notifier: &Teams{URL: url, Client: client}, Events: []Kind{Failed}},
			{Name: "hook", Integration: "webhook", Notifier: &Webhook{URL: url, Secret: []byte("hmac-secret"), Client: client}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return d, stop
}

func fast(int) time.Duration { return 20 * time.Millisecond }

func byType(reqs []request) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		switch {
		case r.header.Get(HeaderSignature) != "":
			out["webhook"]++
		case bytes.Contains(r.body, []byte(`"attachments"`)):
			out["teams"]++
		default:
			out["slack"]++
		}
	}
	return out
}

// Each receiver gets the events it asked for, once, in its own format; the webhook's
// signature verifies with the shared secret and carries the idempotency key.
func TestEachReceiverGetsItsEventsOnce(t *testing.T) {
	rcv := &receiver{}
	d, _ := start(t, t.TempDir(), rcv, io.Discard, nil, fast)
	evs := events()
	for _, e := range evs {
		d.Emit(e)
		d.Emit(e) // a retried pass tells it again: still once
	}
	want := map[string]int{"slack": len(evs), "webhook": len(evs), "teams": 1}
	waitUntil(t, "every delivery", 5*time.Second, func() bool { return len(rcv.got()) >= len(evs)*2+1 })
	time.Sleep(200 * time.Millisecond) // and nothing more
	if got := byType(rcv.got()); got["slack"] != want["slack"] || got["webhook"] != want["webhook"] || got["teams"] != want["teams"] {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
	for _, r := range rcv.got() {
		if r.path != secretPath {
			t.Fatalf("posted to %s", r.path)
		}
		if sig := r.header.Get(HeaderSignature); sig != "" {
			if !ValidSignature([]byte("hmac-secret"), r.body, sig) || ValidSignature([]byte("other"), r.body, sig) {
				t.Fatalf("signature %s does not verify", sig)
			}
			if !strings.HasPrefix(r.header.Get(HeaderDelivery), r.header.Get(HeaderEvent)+"-") || !bytes.Contains(r.body, []byte(r.header.Get(HeaderDelivery))) {
				t.Fatalf("delivery id %q, event %q", r.header.Get(HeaderDelivery), r.header.Get(HeaderEvent))
			}
		}
	}
}

// A receiver down for a while: the events wait, queued, and arrive once it is back,
// once each, in order; the pipeline's Emit never waited.
func TestReceiverDownForAWhile(t *testing.T) {
	rcv := &receiver{}
	for range 4 {
		rcv.answers = append(rcv.answers, status(http.StatusServiceUnavailable))
	}
	reg := prometheus.NewRegistry()
	d, _ := start(t, t.TempDir(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(HeaderSignature) == "" {
			w.WriteHeader(http.StatusOK) // only the webhook receiver is down
			return
		}
		rcv.ServeHTTP(w, r)
	}), io.Discard, reg, fast)
	evs := events()[:3]
	began := time.Now()
	for _, e := range evs {
		d.Emit(e)
	}
	if took := time.Since(began); took > time.Second {
		t.Fatalf("Emit took %s", took)
	}
	waitUntil(t, "the webhook to be delivered after the outage", 10*time.Second, func() bool { return len(rcv.got()) >= 4+len(evs) })
	time.Sleep(200 * time.Millisecond)
	got := rcv.got()
	if len(got) != 4+len(evs) {
		t.Fatalf("%d requests, want 4 failed + %d delivered", len(got), len(evs))
	}
	for i, e := range evs {
		if id := got[4+i].header.Get(HeaderDelivery); id != e.ID {
			t.Fatalf("delivery %d is %s, want %s (in order)", i, id, e.ID)
		}
	}
	if n := testutil.ToFloat64(d.o.Metrics.Notifications.WithLabelValues("hook", "webhook", "retried")); n != 4 {
		t.Fatalf("retried %v", n)
	}
	if n := testutil.ToFloat64(d.o.Metrics.Notifications.WithLabelValues("hook", "webhook", "delivered")); n != 3 {
		t.Fatalf("delivered %v", n)
	}
}

// A restart between the event and its delivery: the event is on disk; the next
// process delivers it, once, and an event told again after that is not sent again.
func TestRestartBetweenEventAndDelivery(t *testing.T) {
	dir := t.TempDir()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // connection refused: nothing is delivered before the "crash"
	d, stop := startAt(t, dir, downURL+secretPath, io.Discard, nil, fast)
	e := events()[1]
	d.Emit(e)
	time.Sleep(100 * time.Millisecond)
	stop()

	rcv := &receiver{}
	d2, _ := start(t, dir, rcv, io.Discard, nil, fast)
	waitUntil(t, "the delivery after the restart", 5*time.Second, func() bool { return len(rcv.got()) >= 2 })
	d2.Emit(e)
	time.Sleep(300 * time.Millisecond)
	if got := byType(rcv.got()); got["slack"] != 1 || got["webhook"] != 1 || got["teams"] != 0 {
		t.Fatalf("deliveries %v, want one each to slack and the webhook", got)
	}
}

// A receiver answering 429 with Retry-After is not asked again before then, even
// with a backoff that would.
func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	rcv := &receiver{answers: []func(http.ResponseWriter){status(http.StatusTooManyRequests, "Retry-After", "2")}}
	d, _ := start(t, t.TempDir(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(HeaderSignature) == "" {
			rcv.ServeHTTP(w, r)
		}
	}), io.Discard, nil, fast)
	d.Emit(events()[0])
	waitUntil(t, "the retry", 10*time.Second, func() bool { return len(rcv.got()) >= 2 })
	got := rcv.got()
	if gap := got[1].at.Sub(got[0].at); gap < 2*time.Second {
		t.Fatalf("retried after %s, before the 2s Retry-After", gap)
	}
	time.Sleep(200 * time.Millisecond)
	if len(rcv.got()) != 2 {
		t.Fatalf("%d requests, want 2", len(rcv.got()))
	}
}

// A final answer (a revoked webhook's 404) is given up on at once and set aside, not
// retried for a day.
func TestFinalAnswerIsGivenUp(t *testing.T) {
	rcv := &receiver{answers: []func(http.ResponseWriter){status(http.StatusNotFound), status(http.StatusNotFound), status(http.StatusNotFound)}}
	dir := t.TempDir()
	d, _ := start(t, dir, rcv, io.Discard, nil, fast)
	d.Emit(events()[0])
	waitUntil(t, "the attempts", 5*time.Second, func() bool { return len(rcv.got()) >= 2 })
	time.Sleep(300 * time.Millisecond)
	if n := len(rcv.got()); n != 2 {
		t.Fatalf("%d requests, want one per receiver", n)
	}
	dead, _ := filepath.Glob(filepath.Join(dir, "*", "dead", "*.json"))
	if len(dead) != 2 {
		t.Fatalf("set aside: %v", dead)
	}
}

// The webhook URLs are secrets: neither the logs (failures included: refused
// connections, error answers) nor the metrics show them.
func TestNoSecretLeaks(t *testing.T) {
	var logs syncBuffer
	reg := prometheus.NewRegistry()
	rcv := &receiver{answers: []func(http.ResponseWriter){status(500), status(500), status(400)}}
	d, _ := start(t, t.TempDir(), rcv, &logs, reg, fast)
	d.Emit(events()[2])
	waitUntil(t, "the attempts", 5*time.Second, func() bool { return len(rcv.got()) >= 3 })

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	d2, _ := startAt(t, t.TempDir(), down.URL+secretPath+"?token=qs-s3cr3t", &logs, nil, fast)
	d2.Emit(events()[2])
	waitUntil(t, "a refused connection to be logged", 5*time.Second, func() bool { return strings.Contains(logs.String(), "connection refused") })

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var metrics strings.Builder
	for _, mf := range mfs {
		metrics.WriteString(mf.String())
	}
	for _, where := range []string{logs.String(), metrics.String()} {
		for _, secret := range []string{"s3cr3tW3bh00kT0k3n", "qs-s3cr3t", "hmac-secret", "T0000/B0000"} {
			if strings.Contains(where, secret) {
				t.Fatalf("%q leaked:\n%s", secret, where)
			}
		}
	}
	if !strings.Contains(logs.String(), "/<redacted>") {
		t.Fatalf("logs do not name the receiver at all:\n%s", logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRetryAfterForms(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := Retrier{Now: func() time.Time { return now }}
	for in, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "-3": 0, "junk": 0, "999999": MaxRetryAfter,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
	} {
		if got := r.retryAfter(in); got != want {
			t.Errorf("Retry-After %q: %s, want %s", in, got, want)
		}
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
