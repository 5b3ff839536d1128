package forgehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func answer(code int, header ...string) Answer {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return Answer{Resp: &http.Response{StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), Header: h}}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

// TestDecide: what each answer a forge gives makes of the request. The jitter is
// pinned to its ceiling so that a backoff's cap shows.
func TestDecide(t *testing.T) {
	reset := strconv.FormatInt(now.Add(90*time.Second).Unix(), 10)
	githubLimit := func(resp *http.Response, body []byte) (bool, time.Duration) {
		if resp.StatusCode == http.StatusForbidden && string(body) == "secondary rate limit" {
			return true, time.Minute
		}
		return false, 0
	}
	cases := []struct {
		name    string
		a       Answer
		attempt int
		limited LimitFunc
		retry   bool
		wait    time.Duration
	}{
		{"network timeout backs off", Answer{Err: timeoutErr{}}, 1, nil, true, time.Second},
		{"a deadline of one attempt backs off", Answer{Err: fmt.Errorf("get: %w", context.DeadlineExceeded)}, 2, nil, true, 2 * time.Second},
		{"a cut answer backs off", Answer{Err: io.ErrUnexpectedEOF}, 1, nil, true, time.Second},
		{"a cancelled caller stops", Answer{Err: fmt.Errorf("get: %w", context.Canceled)}, 1, nil, false, 0},
		{"any other error is final", Answer{Err: errors.New("x509: unknown authority")}, 1, nil, false, 0},
		{"429 waits its Retry-After seconds", answer(429, "Retry-After", "7"), 1, nil, true, 7 * time.Second},
		{"429 waits until its Retry-After date", answer(429, "Retry-After", now.Add(20*time.Second).Format(http.TimeFormat)), 1, nil, true, 20 * time.Second},
		{"a Retry-After date past is no wait", answer(503, "Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), 1, nil, true, 0},
		{"GitLab's spent quota waits for RateLimit-Reset", answer(429, "RateLimit-Remaining", "0", "RateLimit-Reset", reset), 1, nil, true, 91 * time.Second},
		{"GitHub's spent quota waits for X-RateLimit-Reset", answer(429, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset), 1, nil, true, 91 * time.Second},
		{"a reset in seconds from now", answer(429, "RateLimit-Remaining", "0", "RateLimit-Reset", "30"), 1, nil, true, 31 * time.Second},
		{"a reset past waits a second", answer(429, "RateLimit-Remaining", "0", "RateLimit-Reset", strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)), 1, nil, true, time.Second},
		{"a reset of a quota not spent is no word", answer(429, "RateLimit-Remaining", "12", "RateLimit-Reset", reset), 1, nil, true, time.Second},
		{"Retry-After comes before the reset", answer(429, "Retry-After", "3", "RateLimit-Remaining", "0", "RateLimit-Reset", reset), 1, nil, true, 3 * time.Second},
		{"a garbled Retry-After is backed off", answer(429, "Retry-After", "soon"), 3, nil, true, 4 * time.Second},
		{"500 backs off", answer(500), 1, nil, true, time.Second},
		{"502 backs off, doubled per attempt", answer(502), 3, nil, true, 4 * time.Second},
		{"503 waits its Retry-After", answer(503, "Retry-After", "11"), 1, nil, true, 11 * time.Second},
		{"504 backs off, capped", answer(504), 9, nil, true, time.Minute},
		{"401 is the forge's word", answer(401), 1, nil, false, 0},
		{"403 is the forge's word", answer(403, "Retry-After", "5"), 1, nil, false, 0},
		{"404 is the forge's word", answer(404), 1, nil, false, 0},
		{"405 is the forge's word", answer(405), 1, nil, false, 0},
		{"409 is the forge's word", answer(409), 1, nil, false, 0},
		{"422 is the forge's word", answer(422), 1, nil, false, 0},
		{"501 is the forge's word", answer(501, "Retry-After", "5"), 1, nil, false, 0},
		{"a forge's own limit with Retry-After", func() Answer {
			a := answer(403, "Retry-After", "37")
			a.Body = []byte("secondary rate limit")
			return a
		}(), 1, githubLimit, true, 37 * time.Second},
		{"a forge's own limit lasts its own length", func() Answer { a := answer(403); a.Body = []byte("secondary rate limit"); return a }(), 1, githubLimit, true, time.Minute},
		{"a forge's own limit on a 429 too", func() Answer { a := answer(429); a.Body = []byte("secondary rate limit"); return a }(), 1, func(*http.Response, []byte) (bool, time.Duration) { return true, time.Minute }, true, time.Minute},
		{"a forge's refusal that is no limit", func() Answer { a := answer(403); a.Body = []byte("must have admin rights"); return a }(), 1, githubLimit, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decider{Policy: Policy{Attempts: 5, MaxWait: time.Minute, Backoff: time.Second}, Limited: tc.limited,
				Jitter: func(n int64) int64 { return n - 1 }}
			got := d.Decide(tc.a, tc.attempt, now)
			if got.Retry != tc.retry || got.Wait != tc.wait {
				t.Fatalf("retry %v after %v (%s), want %v after %v", got.Retry, got.Wait, got.Why, tc.retry, tc.wait)
			}
			if got.Retry && got.Why == "" {
				t.Fatal("a retry with no reason for the log")
			}
		})
	}
}

// TestBackoffHasFullJitter: the wait is drawn from (0, cap], never the cap for all.
func TestBackoffHasFullJitter(t *testing.T) {
	d := Decider{Policy: Policy{Attempts: 5, MaxWait: time.Minute, Backoff: time.Second}}
	seen := map[time.Duration]bool{}
	for range 50 {
		w := d.Decide(answer(503), 2, now).Wait
		if w <= 0 || w > 2*time.Second {
			t.Fatalf("wait %v outside (0, 2s]", w)
		}
		seen[w] = true
	}
	if len(seen) < 2 {
		t.Fatal("every replica would wait the same")
	}
}
