package main

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/notify"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
)

// newNotifier opens the notification outboxes of the configured receivers (none:
// events only feed the time-to-remediate metrics). A receiver whose URL or secret
// the environment does not hold is bad input: the remediator refuses to start
// rather than remediate in silence. reg nil registers no metrics.
func newNotifier(cfg *config.Config, log *slog.Logger, reg prometheus.Registerer) (*notify.Dispatcher, error) {
	targets, err := cfg.NotifyTargets()
	if err != nil {
		return nil, badInput(err)
	}
	client := &http.Client{Timeout: 15 * time.Second}
	var receivers []notify.Receiver
	for _, t := range targets {
		r := notify.Receiver{Name: t.Name, Integration: t.Type}
		switch t.Type {
		case config.NotifySlack:
			r.Notifier = &notify.Slack{URL: t.URL, Client: client}
		case config.NotifyTeams:
			r.Notifier = &notify.Teams{URL: t.URL, Client: client}
		case config.NotifyWebhook:
			r.Notifier = &notify.Webhook{URL: t.URL, Secret: []byte(t.Secret), Client: client}
		}
		for _, e := range t.Events {
			r.Events = append(r.Events, notify.Kind(e))
		}
		log.Info("notifications on", "receiver", t.Name, "type", t.Type, "url", notify.Redact(t.URL))
		receivers = append(receivers, r)
	}
	var metrics *notify.Metrics
	if reg != nil {
		metrics = notify.NewMetrics(reg)
	}
	return notify.New(notify.Options{Dir: filepath.Join(cfg.StateDir, "notify"), Receivers: receivers, Metrics: metrics, Logger: log})
}

// deadLettered tells of an anomaly the worker gave up on.
func deadLettered(d *notify.Dispatcher) func(queue.Item, string) {
	return func(it queue.Item, reason string) { d.Emit(notify.DeadLetter(it, reason, time.Now())) }
}

// catchUpDeadLetters tells the dead letters a process that died did not tell (see
// notify.Dispatcher.CatchUpDeadLetters); a queue it cannot read is logged, never
// fatal.
func catchUpDeadLetters(d *notify.Dispatcher, queueDir string, log *slog.Logger) {
	dead, err := queue.ListDead(queueDir)
	if err == nil {
		_, err = d.CatchUpDeadLetters(dead)
	}
	if err != nil {
		log.Error("catch up dead letters", "err", err)
	}
}

// flushNotifications gives a command that exits after one pass a short while to
// deliver what it queued; what is left is delivered by serve, or the next run.
func flushNotifications(ctx context.Context, d *notify.Dispatcher) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	d.Flush(ctx)
}

// told queues what a `reconcile` pass did, catches up what a process that died did
// and did not queue (each event claimed, so one process tells it), and tries to
// deliver it now.
func told(ctx context.Context, d *notify.Dispatcher, f notify.Facts, claims notify.ClaimStore, outcomes []lifecycle.Result, dryRun bool) {
	if !dryRun && d.TellPass(ctx, f, claims, outcomes) {
		flushNotifications(ctx, d)
	}
}

// claimsOf are the notification claims in the infrastructure repository, written as
// the remediator's commit author.
func claimsOf(cfg *config.Config, infra *infrarepo.Repo) notify.GitClaims {
	by := object.Signature{Name: cfg.Infrastructure.AuthorName, Email: cfg.Infrastructure.AuthorEmail, When: time.Now()}
	return notify.GitClaims{Infra: infra, By: by}
}
