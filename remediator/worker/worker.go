// Package worker drains the intake queue: each anomaly is proposed, then removed from
// the queue. An anomaly is removed only once handled; a failure that another attempt
// may cure (the Git server is down) leaves it queued for the next round.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
)

// Proposer handles one anomaly.
type Proposer interface {
	Propose(ctx context.Context, a intake.Anomaly, dryRun bool) (propose.Result, error)
}

// Source gives the proposer for the current catalog revision, reloading the catalog
// when its branch has moved.
type Source func(ctx context.Context) (Proposer, error)

// Worker drains a queue.
type Worker struct {
	Queue   *queue.Queue
	Source  Source
	Metrics *Metrics
	Logger  *slog.Logger
	// Poll is how often the queue is looked at without a wake-up.
	Poll time.Duration
	// MaxAttempts is how many failed attempts (errors or panics) an anomaly gets
	// before it is moved to the dead letters; 0 is DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is the wait before the next attempt after n failed ones; nil is
	// DefaultBackoff.
	Backoff func(n int) time.Duration
	Now     func() time.Time
	// Tracer continues each anomaly's trace with its proposal; nil traces nothing.
	Tracer trace.Tracer
	// DeadLettered is told of each anomaly moved to the dead letters; nil: nobody.
	DeadLettered func(it queue.Item, reason string)

	// nextTry holds failed anomalies back until their backoff has passed.
	nextTry map[string]time.Time
}

// DefaultMaxAttempts gives up on an anomaly after about half an hour of failures
// (with DefaultBackoff): long enough to ride out a Git or forge outage, short enough
// that a poison anomaly does not cost every pass forever.
const DefaultMaxAttempts = 10

// DefaultBackoff doubles from 2 s to at most 10 min.
func DefaultBackoff(n int) time.Duration {
	d := 2 * time.Second << min(n-1, 10)
	return min(d, 10*time.Minute)
}

// Run drains the queue until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		w.drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-w.Queue.Wait():
		case <-t.C:
		}
	}
}

// drain handles everything queued now, in arrival order. Items are handled one at a
// time: the first of many identical anomalies opens the proposal, the rest find it.
func (w *Worker) drain(ctx context.Context) {
	if n, err := w.Queue.TakeRetries(); err != nil {
		w.Logger.Error("take back retried dead letters", "err", err)
	} else if n > 0 {
		w.Logger.Info("dead letters queued again", "count", n)
	}
	items, err := w.Queue.Pending()
	if err != nil {
		w.Logger.Error("read queue", "err", err)
		return
	}
	now := w.now()
	for _, it := range items {
		if ctx.Err() != nil {
			return
		}
		if next, ok := w.nextTry[it.ID]; ok && now.Before(next) {
			continue
		}
		w.handle(ctx, it)
	}
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// propose runs the proposer, turning a panic into an error: one anomaly that crashes
// the pipeline must not take the service (and, queued, every restart) down with it.
func (w *Worker) propose(ctx context.Context, p Proposer, a intake.Anomaly) (res propose.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return p.Propose(ctx, a, false)
}

// failed counts a failed attempt; past MaxAttempts the anomaly goes to the dead
// letters, logged once, otherwise it waits out its backoff.
func (w *Worker) failed(it queue.Item, err error, log *slog.Logger) {
	w.Metrics.Errors.Inc()
	n, ferr := w.Queue.Fail(it.ID)
	if ferr != nil {
		log.Error("record a failed attempt", "err", ferr)
		n = it.Attempts + 1
	}
	limit := w.MaxAttempts
	if limit <= 0 {
		limit = DefaultMaxAttempts
	}
	if n >= limit {
		reason := err.Error()
		if derr := w.Queue.DeadLetter(it.ID, reason); derr != nil {
			log.Error("move to the dead letters", "err", derr)
			return
		}
		delete(w.nextTry, it.ID)
		w.Metrics.DeadLetters.Inc()
		if w.DeadLettered != nil {
			w.DeadLettered(it, reason)
		}
		log.Error("anomaly moved to the dead letters after repeated failures; `remediator queue retry` queues it again",
			"attempts", n, "err", reason)
		return
	}
	backoff := w.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	if w.nextTry == nil {
		w.nextTry = map[string]time.Time{}
	}
	wait := backoff(n)
	w.nextTry[it.ID] = w.now().Add(wait)
	log.Error("propose failed; will retry", "attempts", n, "retry_in", wait.String(), "err", err)
}

func (w *Worker) handle(ctx context.Context, it queue.Item) {
	start := time.Now()
	ctx, span := tracing.Or(w.Tracer).Start(tracing.Extract(ctx, it.Anomaly.TraceParent), "queue.handle")
	defer span.End()
	log := w.Logger.With("queue_id", it.ID, "fingerprint", it.Anomaly.Fingerprint)
	if id := tracing.TraceID(ctx); id != "" {
		log = log.With("trace_id", id)
	}
	p, err := w.Source(ctx)
	if err != nil {
		// The catalog, not this anomaly: no attempt is counted against it.
		w.Metrics.Errors.Inc()
		log.Error("load catalog; will retry", "err", err)
		return
	}
	res, err := w.propose(ctx, p, it.Anomaly)
	w.Metrics.Duration.Observe(time.Since(start).Seconds())
	span.SetAttributes(tracing.RemediationID.String(res.ID), tracing.Runbook.String(res.Runbook), tracing.Policy.String(res.Policy), tracing.Action.String(string(res.Action)))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	var bad *propose.InputError
	switch {
	case errors.As(err, &bad):
		// The runbook cannot apply to this anomaly (a missing label, a protected
		// path): retrying cannot help. Recorded, then dropped from the queue.
		w.Metrics.Decisions.WithLabelValues("rejected", res.Runbook).Inc()
		log.Warn("anomaly rejected", "remediation_id", res.ID, "runbook", res.Runbook, "reason", err.Error())
	case err != nil:
		w.failed(it, err, log.With("remediation_id", res.ID))
		return
	default:
		w.Metrics.Decisions.WithLabelValues(string(res.Action), res.Runbook).Inc()
	}
	delete(w.nextTry, it.ID)
	if err := w.Queue.Done(it.ID); err != nil {
		log.Error("remove handled anomaly from the queue", "err", err)
	}
}
