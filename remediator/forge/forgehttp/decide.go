// Package forgehttp is what every forge's HTTP client shares: when to try a request
// again and how long to wait first. The decision is kept apart from sending the
// request (as Alertmanager's notifiers keep theirs), so that it is tested on its
// own: 429 and 5xx and network timeouts are retried, a rate limit waits for what the
// forge says (Retry-After, then the reset time of its RateLimit-* or X-RateLimit-*
// headers), anything else is the forge's word and is not retried, and no wait
// outlasts the policy's MaxWait or the request's context.
package forgehttp

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy bounds how a forge retries a request its server could not serve.
type Policy struct {
	// Attempts is the most tries of one request, the first included.
	Attempts int
	// MaxWait is the longest single wait the forge accepts; a rate limit that resets
	// later fails the request instead, and the work waits for a later pass.
	MaxWait time.Duration
	// Timeout bounds each attempt; zero leaves it to the request's context.
	Timeout time.Duration
	// Backoff is the first wait after a server error, doubled per attempt (with jitter).
	Backoff time.Duration
}

// Default is what serve and propose use on every forge.
var Default = Policy{Attempts: 5, MaxWait: 2 * time.Minute, Timeout: 30 * time.Second, Backoff: time.Second}

// Answer is one attempt's outcome: a response (with the start of its body when it
// is an error), or the error that came instead.
type Answer struct {
	Resp *http.Response
	// Body is what was read of an error answer's body (at most MaxPeek bytes).
	Body []byte
	Err  error
}

// Decision is whether and when to try a request again, and why (for the log).
type Decision struct {
	Retry bool
	Wait  time.Duration
	Why   string
}

// LimitFunc says whether an answer other than 429 is a rate limit all the same, and
// how long it lasts when no header says (zero: back off). GitHub answers its limits
// with 403, and its secondary limit lasts a documented minute.
type LimitFunc func(resp *http.Response, body []byte) (limited bool, wait time.Duration)

// Decider is one forge's retry rules: the shared policy and what the forge says of
// its own rate limits.
type Decider struct {
	Policy Policy
	// Limited is the forge's word on answers other than 429; nil: only 429 is a limit.
	Limited LimitFunc
	// Jitter picks a wait in [0, n); nil is uniform random. Tests pin it.
	Jitter func(n int64) int64
}

// Decide says whether to try again after the attempt-th answer a, at now.
func (d Decider) Decide(a Answer, attempt int, now time.Time) Decision {
	if a.Err != nil {
		if errors.Is(a.Err, context.Canceled) {
			return Decision{}
		}
		var ne net.Error
		if errors.As(a.Err, &ne) || errors.Is(a.Err, context.DeadlineExceeded) || errors.Is(a.Err, io.ErrUnexpectedEOF) {
			return d.backoff(attempt, "network: "+a.Err.Error())
		}
		return Decision{}
	}
	code := a.Resp.StatusCode
	limited, limitWait := code == http.StatusTooManyRequests, time.Duration(0)
	if d.Limited != nil {
		l, w := d.Limited(a.Resp, a.Body)
		limited, limitWait = limited || l, w
	}
	if !limited && !serverError(code) {
		return Decision{} // the forge's word: retrying changes nothing
	}
	h := a.Resp.Header
	if w, ok := RetryAfter(h.Get("Retry-After"), now); ok {
		return Decision{Retry: true, Wait: w, Why: strconv.Itoa(code) + " with Retry-After"}
	}
	if !limited {
		return d.backoff(attempt, a.Resp.Status)
	}
	if w, ok := resetWait(h, now); ok {
		return Decision{Retry: true, Wait: w, Why: strconv.Itoa(code) + ": rate limit until its reset"}
	}
	if limitWait > 0 {
		return Decision{Retry: true, Wait: limitWait, Why: strconv.Itoa(code) + ": rate limit of the forge's own length"}
	}
	return d.backoff(attempt, a.Resp.Status)
}

// backoff doubles the first wait per attempt, capped by MaxWait, with full jitter:
// replicas that failed together do not retry together.
func (d Decider) backoff(attempt int, why string) Decision {
	w := d.Policy.Backoff << (attempt - 1)
	if w <= 0 || w > d.Policy.MaxWait {
		w = d.Policy.MaxWait
	}
	if w <= 0 {
		w = time.Second
	}
	jitter := d.Jitter
	if jitter == nil {
		jitter = rand.Int64N
	}
	return Decision{Retry: true, Wait: time.Duration(jitter(int64(w)) + 1), Why: why}
}

// serverError is a 5xx a restart or an overloaded proxy answers, worth a retry.
func serverError(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// RetryAfter reads a Retry-After header: seconds, or an HTTP date (a past one is no wait).
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// resetWait is the wait until an exhausted quota resets, a second past it: GitLab's
// RateLimit-Reset and GitHub's X-RateLimit-Reset are Unix times, and count only when
// the matching Remaining header says the quota is spent. A small number is read as
// seconds from now, as the IETF draft of RateLimit-Reset has it.
func resetWait(h http.Header, now time.Time) (time.Duration, bool) {
	for _, prefix := range []string{"Ratelimit-", "X-Ratelimit-"} {
		if strings.TrimSpace(h.Get(prefix+"Remaining")) != "0" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(h.Get(prefix+"Reset")), 10, 64)
		if err != nil || n < 0 {
			continue
		}
		w := time.Duration(n) * time.Second
		if n > 1_000_000_000 { // a Unix time, not a count of seconds
			w = time.Unix(n, 0).Sub(now)
		}
		return max(w+time.Second, time.Second), true
	}
	return 0, false
}
