package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry bounds how the forge retries a request GitHub could not serve.
type Retry struct {
	// Attempts is the most tries of one request, the first included.
	Attempts int
	// MaxWait is the longest single wait the forge accepts; a rate limit that resets
	// later fails the request instead, and the anomaly stays queued for a later try.
	MaxWait time.Duration
	// Timeout bounds each attempt.
	Timeout time.Duration
	// Backoff is the first wait after a server error, doubled per attempt (with jitter).
	Backoff time.Duration
}

// DefaultRetry is what serve and propose use.
var DefaultRetry = Retry{Attempts: 5, MaxWait: 2 * time.Minute, Timeout: 30 * time.Second, Backoff: time.Second}

// decision is whether and when to try a request again.
type decision struct {
	retry bool
	wait  time.Duration
	why   string
}

// decide is the retry decision, kept apart from sending the request: 5xx and
// timeouts back off exponentially; rate limits wait for what GitHub says, Retry-After
// first, then the primary limit's reset time, then the documented minute for a
// secondary limit without either.
func decide(resp *http.Response, body []byte, err error, attempt int, r Retry, now time.Time) decision {
	backoff := func(why string) decision {
		d := r.Backoff << (attempt - 1)
		if d <= 0 || d > r.MaxWait {
			d = r.MaxWait
		}
		// Full jitter: replicas that failed together do not retry together.
		return decision{retry: true, wait: time.Duration(rand.Int64N(int64(d)) + 1), why: why}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return decision{}
		}
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) {
			return backoff("network: " + err.Error())
		}
		return decision{}
	}
	if wait, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500) {
		return decision{retry: true, wait: wait, why: fmt.Sprintf("%d with Retry-After", resp.StatusCode)}
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusForbidden:
		if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
			if reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
				wait := time.Unix(reset, 0).Sub(now) + time.Second
				if wait < time.Second {
					wait = time.Second
				}
				return decision{retry: true, wait: wait, why: "primary rate limit"}
			}
		}
		if bytes.Contains(bytes.ToLower(body), []byte("secondary rate limit")) {
			return decision{retry: true, wait: time.Minute, why: "secondary rate limit"}
		}
		return decision{} // a real permission error: retrying changes nothing
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return backoff(resp.Status)
	}
	return decision{}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// retryTransport sends a request, and again while decide says so.
type retryTransport struct {
	base   http.RoundTripper
	retry  Retry
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	logger *slog.Logger
}

// maxPeek bounds what is read of an error body to recognise a secondary rate limit.
const maxPeek = 64 << 10

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		try := req
		if attempt > 1 && req.Body != nil {
			if req.GetBody == nil {
				return nil, fmt.Errorf("%s %s: cannot resend a request body", req.Method, req.URL.Path)
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			try = req.Clone(req.Context())
			try.Body = body
		}
		resp, err := t.once(try)
		var body []byte
		if err == nil && resp.StatusCode >= 400 {
			body, _ = io.ReadAll(io.LimitReader(resp.Body, maxPeek))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
		}
		d := decide(resp, body, err, attempt, t.retry, t.now())
		if !d.retry || attempt >= t.retry.Attempts {
			return resp, err
		}
		if d.wait > t.retry.MaxWait {
			t.logger.Warn("github: not waiting that long, giving up for now", "method", req.Method, "path", req.URL.Path, "reason", d.why, "wait", d.wait)
			return resp, err
		}
		t.logger.Info("github: retrying", "method", req.Method, "path", req.URL.Path, "attempt", attempt, "reason", d.why, "wait", d.wait)
		if err := t.sleep(req.Context(), d.wait); err != nil {
			return nil, err
		}
	}
}

// once sends one attempt under its own timeout; the timeout keeps running while the
// caller reads the body and ends when it closes it.
func (t *retryTransport) once(req *http.Request) (*http.Response, error) {
	if t.retry.Timeout <= 0 {
		return t.base.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.retry.Timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if ctx.Err() != nil && req.Context().Err() == nil {
			return nil, fmt.Errorf("%s %s: no answer within %s: %w", req.Method, req.URL.Path, t.retry.Timeout, context.DeadlineExceeded)
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// sleepContext waits, or stops early when the context ends.
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
