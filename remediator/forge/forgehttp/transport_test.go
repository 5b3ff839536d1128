package forgehttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server answers the i-th request with answers[i] (Retry-After after when set), and
// keeps the bodies it was sent.
type server struct {
	*httptest.Server
	n      atomic.Int32
	mu     sync.Mutex
	bodies []string
}

func newServer(t *testing.T, after string, answers ...int) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
		i := int(s.n.Add(1) - 1)
		if after != "" {
			w.Header().Set("Retry-After", after)
		}
		w.WriteHeader(answers[min(i, len(answers)-1)])
		_, _ = io.WriteString(w, strings.Repeat("x", MaxPeek+10))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestTransportRetries: what a forge's client sees of a run of answers, with the
// waits it took. A body sent without GetBody is sent again whole.
func TestTransportRetries(t *testing.T) {
	cases := []struct {
		name    string
		answers []int
		after   string
		tries   int32
		final   int
		waits   []time.Duration
	}{
		{"rate limited, then served", []int{429, 200}, "7", 2, 200, []time.Duration{7 * time.Second}},
		{"gateway errors", []int{502, 503, 200}, "", 3, 200, []time.Duration{time.Millisecond, 2 * time.Millisecond}},
		{"not found is an answer", []int{404, 200}, "", 1, 404, nil},
		{"a refusal is an answer", []int{405, 200}, "", 1, 405, nil},
		{"gives up after the attempts", []int{500}, "", 3, 500, []time.Duration{time.Millisecond, 2 * time.Millisecond}},
		{"a wait too long is not taken", []int{429, 200}, "3600", 1, 429, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.after, tc.answers...)
			var waits []time.Duration
			rt := NewTransport(Options{Name: "test", Policy: Policy{Attempts: 3, MaxWait: time.Minute, Backoff: time.Millisecond},
				Jitter: func(n int64) int64 { return n - 1 },
				Sleep:  func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, io.NopCloser(strings.NewReader(`{"x":1}`)))
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tc.final || srv.n.Load() != tc.tries {
				t.Fatalf("final %d after %d tries; want %d after %d", resp.StatusCode, srv.n.Load(), tc.final, tc.tries)
			}
			if len(b) != MaxPeek+10 {
				t.Fatalf("the caller read %d bytes of the answer, want all %d", len(b), MaxPeek+10)
			}
			if len(waits) != len(tc.waits) || (len(waits) > 0 && waits[0] != tc.waits[0]) {
				t.Fatalf("waits %v, want %v", waits, tc.waits)
			}
			for i, body := range srv.bodies {
				if body != `{"x":1}` {
					t.Fatalf("attempt %d sent %q", i+1, body)
				}
			}
		})
	}
}

// TestTransportWaitsNoLongerThanTheContext: a wait past the caller's deadline is
// not begun; the answer in hand is returned at once.
func TestTransportWaitsNoLongerThanTheContext(t *testing.T) {
	srv := newServer(t, "30", 503, 200)
	slept := false
	rt := NewTransport(Options{Name: "test", Sleep: func(context.Context, time.Duration) error { slept = true; return nil }})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if slept || resp.StatusCode != http.StatusServiceUnavailable || srv.n.Load() != 1 {
		t.Fatalf("slept %v, answer %d after %d tries: want the 503 at once", slept, resp.StatusCode, srv.n.Load())
	}
}

// TestTransportTimesOutAnAttempt: an attempt with no answer within the policy's
// timeout is tried again; the second answers.
func TestTransportTimesOutAnAttempt(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	var waits int
	rt := NewTransport(Options{Name: "test", Policy: Policy{Attempts: 3, MaxWait: time.Minute, Timeout: 200 * time.Millisecond, Backoff: time.Millisecond},
		Sleep: func(context.Context, time.Duration) error { waits++; return nil }})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(b) != "ok" || waits != 1 || n.Load() != 2 {
		t.Fatalf("read %q after %d waits and %d tries", b, waits, n.Load())
	}
}

// TestTransportStopsWithTheCaller: a caller that gives up during a wait gets its
// context's error, and no further attempt is sent.
func TestTransportStopsWithTheCaller(t *testing.T) {
	srv := newServer(t, "", 503)
	ctx, cancel := context.WithCancel(context.Background())
	rt := NewTransport(Options{Name: "test", Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return SleepContext(ctx, d) }})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		_ = resp.Body.Close()
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want the caller's cancellation", err)
	}
	if srv.n.Load() != 1 {
		t.Fatalf("%d attempts after the caller left", srv.n.Load())
	}
}
