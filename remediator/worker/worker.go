// Package worker drains the intake queue: each anomaly is proposed, then removed from
// the queue. An anomaly is removed only once handled; a failure that another attempt
// may cure (the Git server is down) leaves it queued for the next round.
package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/server"
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
	Metrics *server.Metrics
	Logger  *slog.Logger
	// Poll is how often the queue is looked at without a wake-up, and how soon a
	// failed item is retried.
	Poll time.Duration
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
	items, err := w.Queue.Pending()
	if err != nil {
		w.Logger.Error("read queue", "err", err)
		return
	}
	for _, it := range items {
		if ctx.Err() != nil {
			return
		}
		w.handle(ctx, it)
	}
}

func (w *Worker) handle(ctx context.Context, it queue.Item) {
	start := time.Now()
	log := w.Logger.With("queue_id", it.ID, "fingerprint", it.Anomaly.Fingerprint)
	p, err := w.Source(ctx)
	if err != nil {
		w.Metrics.Errors.Inc()
		log.Error("load catalog; will retry", "err", err)
		return
	}
	res, err := p.Propose(ctx, it.Anomaly, false)
	w.Metrics.Duration.Observe(time.Since(start).Seconds())
	var bad *propose.InputError
	switch {
	case errors.As(err, &bad):
		// The runbook cannot apply to this anomaly (a missing label, a protected
		// path): retrying cannot help. Recorded, then dropped from the queue.
		w.Metrics.Decisions.WithLabelValues("rejected").Inc()
		log.Warn("anomaly rejected", "remediation_id", res.ID, "runbook", res.Runbook, "reason", err.Error())
	case err != nil:
		w.Metrics.Errors.Inc()
		log.Error("propose failed; will retry", "remediation_id", res.ID, "err", err)
		return
	default:
		w.Metrics.Decisions.WithLabelValues(res.Action).Inc()
	}
	if err := w.Queue.Done(it.ID); err != nil {
		log.Error("remove handled anomaly from the queue", "err", err)
	}
}
