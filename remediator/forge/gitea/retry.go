package gitea

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry bounds how the forge retries a request Gitea could not serve.
type Retry struct {
	// Attempts is the most tries of one request, the first included.
	Attempts int
	// MaxWait is the longest single wait the forge accepts; a rate limit that resets
	// later fails the request instead, and the work waits for a later pass.
	MaxWait time.Duration
	// Backoff is the first wait after a server error, doubled per attempt (with jitter).
	Backoff time.Duration
}

// DefaultRetry is what serve and propose use, as on GitHub.
var DefaultRetry = Retry{Attempts: 5, MaxWait: 2 * time.Minute, Backoff: time.Second}

// wait says whether and how long to wait before trying a request again: 429 and 5xx
// (a proxy in front of Gitea limits the rate; Gitea restarts) wait for Retry-After
// when the answer gives one, else back off exponentially with full jitter, as do
// network errors. Anything else is Gitea's word and is not retried.
func wait(resp *http.Response, err error, attempt int, r Retry, now time.Time) (time.Duration, bool) {
	backoff := func() (time.Duration, bool) {
		d := r.Backoff << (attempt - 1)
		if d <= 0 || d > r.MaxWait {
			d = r.MaxWait
		}
		return time.Duration(rand.Int64N(int64(d)) + 1), true
	}
	if err != nil {
		var ne net.Error
		if !errors.Is(err, context.Canceled) && (errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF)) {
			return backoff()
		}
		return 0, false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
		return d, true
	}
	return backoff()
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// retryTransport sends a request, and again while wait says so.
type retryTransport struct {
	base   http.RoundTripper
	retry  Retry
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	logger *slog.Logger
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	for attempt := 1; ; attempt++ {
		try := req.Clone(req.Context())
		if body != nil {
			try.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := t.base.RoundTrip(try)
		d, again := wait(resp, err, attempt, t.retry, t.now())
		if !again || attempt >= t.retry.Attempts || d > t.retry.MaxWait {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		t.logger.Warn("gitea: retrying", "method", req.Method, "path", req.URL.Path, "attempt", attempt, "wait", d)
		if err := t.sleep(req.Context(), d); err != nil {
			return nil, err
		}
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
