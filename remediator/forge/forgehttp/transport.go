package forgehttp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// MaxPeek bounds what is read of an error body for the forge's LimitFunc.
const MaxPeek = 64 << 10

// Transport sends a request, and again while its Decider says so. Each attempt has
// the policy's Timeout; every wait ends early when the request's context does, and
// a wait that would outlast the context's deadline is not begun.
type Transport struct {
	base    http.RoundTripper
	decider Decider
	name    string
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	logger  *slog.Logger
}

// Options build a Transport; only Name is required, the rest have defaults.
type Options struct {
	// Name is the forge's, for the log ("github", "gitea", "gitlab").
	Name string
	// Base carries the requests; nil is http.DefaultTransport.
	Base http.RoundTripper
	// Policy bounds the retries; a zero Attempts is Default.
	Policy  Policy
	Limited LimitFunc
	Jitter  func(int64) int64
	Now     func() time.Time
	// Sleep waits between attempts; tests replace it to see the waits without taking them.
	Sleep  func(context.Context, time.Duration) error
	Logger *slog.Logger
}

// NewTransport builds the retrying transport a forge's client speaks through.
func NewTransport(o Options) *Transport {
	if o.Base == nil {
		o.Base = http.DefaultTransport
	}
	if o.Policy.Attempts == 0 {
		o.Policy = Default
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = SleepContext
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Transport{base: o.Base, decider: Decider{Policy: o.Policy, Limited: o.Limited, Jitter: o.Jitter},
		name: o.Name, now: o.Now, sleep: o.Sleep, logger: o.Logger}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	req, err := replayable(req)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		try := req
		if attempt > 1 && req.Body != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("%s %s: resend the request body: %w", req.Method, req.URL.Path, err)
			}
			try = req.Clone(req.Context())
			try.Body = body
		}
		a := t.once(try)
		d := t.decider.Decide(a, attempt, t.now())
		if !d.Retry || attempt >= t.decider.Policy.Attempts {
			return a.Resp, a.Err
		}
		if d.Wait > t.decider.Policy.MaxWait || outlasts(req.Context(), t.now(), d.Wait) {
			t.logger.Warn(t.name+": not waiting that long, giving up for now", "method", req.Method, "path", req.URL.Path, "reason", d.Why, "wait", d.Wait)
			return a.Resp, a.Err
		}
		if a.Resp != nil {
			_ = a.Resp.Body.Close()
		}
		t.logger.Info(t.name+": retrying", "method", req.Method, "path", req.URL.Path, "attempt", attempt, "reason", d.Why, "wait", d.Wait)
		if err := t.sleep(req.Context(), d.Wait); err != nil {
			return nil, err
		}
	}
}

// replayable makes a request's body readable again for a retry: a client that set no
// GetBody has its body read once into memory.
func replayable(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return req, nil
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the request body: %w", req.Method, req.URL.Path, err)
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return r, nil
}

// outlasts says whether waiting d from now passes the context's deadline: the wait
// could only end in the context's error, so the answer in hand is returned instead.
func outlasts(ctx context.Context, now time.Time, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && now.Add(d).After(deadline)
}

// once sends one attempt under the policy's timeout (which keeps running while the
// caller reads the body and ends when it closes it), and reads the start of an error
// answer's body for the decision, leaving it whole for the caller.
func (t *Transport) once(req *http.Request) Answer {
	timeout := t.decider.Policy.Timeout
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(req.Context(), timeout)
	}
	resp, err := t.base.RoundTrip(req.WithContext(ctx)) //nolint:bodyclose // the caller closes it, through cancelBody
	if err != nil {
		cancel()
		if timeout > 0 && ctx.Err() != nil && req.Context().Err() == nil {
			err = fmt.Errorf("%s %s: no answer within %s: %w", req.Method, req.URL.Path, timeout, context.DeadlineExceeded)
		}
		return Answer{Err: err}
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	var peek []byte
	if resp.StatusCode >= 400 {
		peek, _ = io.ReadAll(io.LimitReader(resp.Body, MaxPeek))
		resp.Body = peekedBody{Reader: io.MultiReader(bytes.NewReader(peek), resp.Body), Closer: resp.Body}
	}
	return Answer{Resp: resp, Body: peek}
}

// cancelBody ends an attempt's timeout when the caller closes the body.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// peekedBody is a body whose start was read for the decision and is read again first.
type peekedBody struct {
	io.Reader
	io.Closer
}

// SleepContext waits, or stops early when the context ends.
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
