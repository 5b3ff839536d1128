package github

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func answer(status, remaining int, reset time.Time) *http.Response {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	return &http.Response{StatusCode: status, Header: h}
}

// Every answer's rate-limit headers become gauges, requests are counted by route and
// outcome, and 304s are not counted against the limit.
func TestBudgetMetrics(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	b := NewBudget(reg, func() time.Time { return now })
	req, _ := http.NewRequest(http.MethodGet, "http://x/api/v3/repos/o/r/pulls/7/reviews", nil)
	b.observe(req, answer(200, 4000, now.Add(30*time.Minute))) //nolint:bodyclose // a made-up answer: no connection behind its body
	b.observe(req, answer(304, 4000, now.Add(30*time.Minute))) //nolint:bodyclose // a made-up answer: no connection behind its body
	b.observe(req, answer(404, 3999, now.Add(30*time.Minute))) //nolint:bodyclose // a made-up answer: no connection behind its body
	b.observe(req, nil)
	if b.Counted() != 2 || b.NotModified() != 1 {
		t.Fatalf("counted %d, 304s %d; want 2 and 1", b.Counted(), b.NotModified())
	}
	want := `
# HELP remediator_forge_ratelimit_remaining Requests left in the forge's current rate-limit window (X-RateLimit-Remaining), by resource.
# TYPE remediator_forge_ratelimit_remaining gauge
remediator_forge_ratelimit_remaining{resource="core"} 3999
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "remediator_forge_ratelimit_remaining"); err != nil {
		t.Error(err)
	}
	for outcome, n := range map[string]float64{"2xx": 1, "304": 1, "4xx": 1, "error": 1} {
		if got := testutil.ToFloat64(b.requests.WithLabelValues("/repos/{owner}/{repo}/pulls/{}/reviews", outcome)); got != n {
			t.Errorf("requests{outcome=%s} = %v, want %v", outcome, got, n)
		}
	}
}

// Timed passes slow down as the budget runs low, spreading what is left beyond the
// reserve for merges and verifications until the window resets, and stop when only
// the reserve is left.
func TestBudgetSpare(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	req, _ := http.NewRequest(http.MethodGet, "http://x/user", nil)
	for _, tc := range []struct {
		name      string
		remaining int
		reset     time.Duration
		cost      int
		since     time.Duration
		spare     bool
	}{
		{"unknown budget", -1, 0, 400, time.Minute, true},
		{"plenty", 4000, 30 * time.Minute, 3, time.Minute, true},
		{"a quiet pass costs nothing", 600, 30 * time.Minute, 0, time.Second, true},
		{"the old 2+2N pass at 200 open, a minute on", 4000, 30 * time.Minute, 402, time.Minute, false},
		{"the old 2+2N pass at 200 open, four minutes on", 4000, 30 * time.Minute, 402, 4 * time.Minute, true},
		{"little beyond the reserve", 520, 10 * time.Minute, 3, time.Minute, false},
		{"only the reserve left", 400, 10 * time.Minute, 3, time.Hour, false},
		{"window just reset", 10, -time.Second, 3, time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBudget(nil, func() time.Time { return now })
			if tc.remaining >= 0 {
				b.observe(req, answer(200, tc.remaining, now.Add(tc.reset))) //nolint:bodyclose // a made-up answer: no connection behind its body
			}
			ok, why := b.Spare(tc.cost, tc.since)
			if ok != tc.spare || ok != (why == "") {
				t.Fatalf("Spare = %v (%q), want %v", ok, why, tc.spare)
			}
		})
	}
}
