package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
)

// Notifier delivers one event to one receiver.
type Notifier interface {
	Notify(ctx context.Context, e *Event) error
}

// RetryError is a failed delivery another attempt may cure; After, when set, is the
// least wait the receiver asked for (Retry-After).
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// MaxRetryAfter bounds the wait a receiver may ask for: a hostile or broken receiver
// cannot park the queue for days.
const MaxRetryAfter = time.Hour

// Retrier decides, from a receiver's answer alone, whether a delivery failed and
// whether to try again: 2xx delivered; 408, 429 and 5xx retried (after Retry-After
// when given); any other answer is final (a revoked webhook answers 403 or 404 for
// ever).
type Retrier struct {
	Now func() time.Time
}

// Check returns nil for a delivery, a *RetryError for a failure worth retrying, or
// another error. The body is read a little for the error's sake, never logged whole.
func (r Retrier) Check(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	err := fmt.Errorf("receiver answered %s: %s", resp.Status, artifact.OneLine(string(body)))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode/100 == 5 {
		return &RetryError{Err: err, After: r.retryAfter(resp.Header.Get("Retry-After"))}
	}
	return err
}

// retryAfter reads Retry-After: delay-seconds or an HTTP date (RFC 9110 10.2.3).
func (r Retrier) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		now := time.Now
		if r.Now != nil {
			now = r.Now
		}
		d = at.Sub(now())
	}
	return min(max(d, 0), MaxRetryAfter)
}

// post sends a JSON body and judges the answer; errors name the receiver by its
// redacted URL only (a webhook URL is a secret: whoever has it can post).
func post(ctx context.Context, c *http.Client, target string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request to %s: %w", Redact(target), scrub(err, target))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "remediator")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		// Network errors are worth another attempt.
		return &RetryError{Err: fmt.Errorf("post to %s: %w", Redact(target), scrub(err, target))}
	}
	defer resp.Body.Close()
	if err := (Retrier{}).Check(resp); err != nil {
		var re *RetryError
		if errors.As(err, &re) {
			re.Err = fmt.Errorf("post to %s: %w", Redact(target), re.Err)
			return re
		}
		return fmt.Errorf("post to %s: %w", Redact(target), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return nil
}

// Redact keeps a URL's scheme and host: Slack's and Teams' webhook URLs carry their
// secret in the path, others in the query or user info.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<redacted URL>"
	}
	return u.Scheme + "://" + u.Host + "/<redacted>"
}

// scrub takes the URL out of an error: net/http's errors quote it whole.
func scrub(err error, target string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, scrubbed{ue.Err, target})
	}
	return scrubbed{err, target}
}

type scrubbed struct {
	err    error
	target string
}

func (s scrubbed) Error() string {
	return strings.ReplaceAll(s.err.Error(), s.target, Redact(s.target))
}
func (s scrubbed) Unwrap() error { return s.err }
