package github

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a request to GitHub, as the budget counts them: only "304" and
// "error" (no answer) cost nothing of the primary rate limit.
const (
	Outcome2xx         = "2xx"
	OutcomeNotModified = "304"
	Outcome4xx         = "4xx"
	Outcome5xx         = "5xx"
	OutcomeError       = "error"
)

// Budget watches what the forge spends of GitHub's rate limit: every answer's
// X-RateLimit-* headers become gauges per resource, every request is counted by
// route and outcome, and a pass can ask whether the budget left lasts until the
// limit resets.
type Budget struct {
	now       func() time.Time
	requests  *prometheus.CounterVec
	remaining *prometheus.GaugeVec
	limit     *prometheus.GaugeVec
	reset     *prometheus.GaugeVec

	mu     sync.Mutex
	core   limitState
	counts map[string]int // outcome -> requests
}

type limitState struct {
	known            bool
	limit, remaining int
	reset            time.Time
}

// NewBudget registers the budget's metrics on reg (nil: none registered).
func NewBudget(reg prometheus.Registerer, now func() time.Time) *Budget {
	if now == nil {
		now = time.Now
	}
	b := &Budget{
		now: now, counts: map[string]int{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remediator_forge_requests_total",
			Help: "Requests to the forge's API by route (its template) and outcome: 2xx, 304 (revalidated from the cache: not counted by GitHub's rate limit), 4xx, 5xx, error.",
		}, []string{"route", "outcome"}),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "remediator_forge_ratelimit_remaining", Help: "Requests left in the forge's current rate-limit window (X-RateLimit-Remaining), by resource.",
		}, []string{"resource"}),
		limit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "remediator_forge_ratelimit_limit", Help: "Requests allowed per rate-limit window (X-RateLimit-Limit), by resource.",
		}, []string{"resource"}),
		reset: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "remediator_forge_ratelimit_reset_timestamp_seconds", Help: "When the forge's rate-limit window resets (X-RateLimit-Reset), by resource.",
		}, []string{"resource"}),
	}
	if reg != nil {
		reg.MustRegister(b.requests, b.remaining, b.limit, b.reset)
	}
	return b
}

// observe records one answer (nil when none came).
func (b *Budget) observe(req *http.Request, resp *http.Response) {
	if resp == nil {
		b.count(req.URL.Path, OutcomeError)
		return
	}
	b.Observe(req.URL.Path, resp.StatusCode, resp.Header)
}

// count counts one request by route and outcome.
func (b *Budget) count(path, outcome string) {
	b.requests.WithLabelValues(Route(path), outcome).Inc()
	b.mu.Lock()
	b.counts[outcome]++
	b.mu.Unlock()
}

// Observe records one answer of GitHub to a request for path: its outcome, and the
// rate limit its headers report.
func (b *Budget) Observe(path string, status int, h http.Header) {
	outcome := Outcome2xx
	switch {
	case status == http.StatusNotModified:
		outcome = OutcomeNotModified
	case status >= 500:
		outcome = Outcome5xx
	case status >= 400:
		outcome = Outcome4xx
	}
	b.count(path, outcome)
	remaining, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	limit, err2 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	reset, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return
	}
	resource := h.Get("X-RateLimit-Resource")
	if resource == "" {
		resource = "core"
	}
	b.remaining.WithLabelValues(resource).Set(float64(remaining))
	b.limit.WithLabelValues(resource).Set(float64(limit))
	b.reset.WithLabelValues(resource).Set(float64(reset))
	if resource == "core" {
		b.mu.Lock()
		b.core = limitState{known: true, limit: limit, remaining: remaining, reset: time.Unix(reset, 0)}
		b.mu.Unlock()
	}
}

// Counted is how many requests GitHub's primary rate limit counted so far (every
// answer but 304s; requests that got no answer are not).
func (b *Budget) Counted() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for outcome, c := range b.counts {
		if outcome != OutcomeNotModified && outcome != OutcomeError {
			n += c
		}
	}
	return n
}

// NotModified is how many answers were 304s.
func (b *Budget) NotModified() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts[OutcomeNotModified]
}

// reserveShare of the limit is kept for what must not wait: merges, verifications,
// proposals for anomalies. Timed passes are what gives way first.
const reserveShare = 10

// Spare says whether a timed pass that costs passCost counted requests may run
// sinceLast after the last one; when not, why. The budget left beyond the reserve is
// spread evenly until the window resets: passes slow down as it runs low, and stop
// when only the reserve is left. A budget not seen yet, or a pass that costs
// nothing, is spare.
func (b *Budget) Spare(passCost int, sinceLast time.Duration) (bool, string) {
	b.mu.Lock()
	s := b.core
	b.mu.Unlock()
	now := b.now()
	if !s.known || !now.Before(s.reset) || passCost <= 0 {
		return true, ""
	}
	left := s.reset.Sub(now)
	spendable := s.remaining - s.limit/reserveShare
	head := "the forge's rate limit has " + strconv.Itoa(s.remaining) + " requests left until " + s.reset.UTC().Format(time.RFC3339)
	if spendable <= 0 {
		return false, head + ": only the reserve for merges and verifications is left"
	}
	every := time.Duration(float64(left) * float64(passCost) / float64(spendable))
	if sinceLast < every {
		return false, head + ": a timed pass of ~" + strconv.Itoa(passCost) + " requests fits once every " + every.Round(time.Second).String()
	}
	return true, ""
}

// meterTransport tells the budget of every answer, retries included.
type meterTransport struct {
	base   http.RoundTripper
	budget *Budget
}

func (t *meterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	t.budget.observe(req, resp)
	return resp, err
}

// routeWords are the literal segments of the routes the forge uses; any other
// segment is a parameter, so the route label stays bounded.
var routeWords = map[string]bool{
	"repos": true, "pulls": true, "reviews": true, "commits": true, "issues": true, "comments": true, "labels": true,
	"statuses": true, "status": true, "check-runs": true, "requested_reviewers": true, "merge": true, "user": true,
	"orgs": true, "teams": true, "memberships": true, "collaborators": true, "permission": true, "events": true,
	"timeline": true, "dismissals": true, "app": true, "installations": true, "access_tokens": true,
}

// Route is the template of an API path: /repos/{owner}/{repo}/pulls/{}/reviews.
func Route(path string) string {
	path = strings.TrimPrefix(path, "/api/v3")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		switch {
		case i > 0 && segs[0] == "repos" && i <= 2:
			segs[i] = map[int]string{1: "{owner}", 2: "{repo}"}[i]
		case !routeWords[s]:
			segs[i] = "{}"
		}
	}
	return "/" + strings.Join(segs, "/")
}
