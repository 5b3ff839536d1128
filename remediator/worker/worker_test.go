package worker

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
)

// poison panics on the anomaly named "poison", fails on "flaky" until it is healed,
// and proposes everything else.
type poison struct {
	handled []string
	healed  bool
}

func (p *poison) Propose(_ context.Context, a intake.Anomaly, _ bool) (propose.Result, error) {
	switch a.Labels["alertname"] {
	case "poison":
		var parts []string
		_ = parts[len(a.Labels)] // out of range: the kind of bug a bad input can reach
	case "flaky":
		if !p.healed {
			return propose.Result{}, errors.New("git server unreachable")
		}
	}
	p.handled = append(p.handled, a.Labels["alertname"])
	return propose.Result{Action: decision.Opened}, nil
}

func newWorker(t *testing.T, dir string, p *poison, now *time.Time) (*Worker, *queue.Queue, *Metrics) {
	t.Helper()
	q, err := queue.Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry(), q.Len)
	w := &Worker{Queue: q, Metrics: m, Logger: slog.New(slog.DiscardHandler), Poll: time.Hour, MaxAttempts: 3,
		Source: func(context.Context) (Proposer, error) { return p, nil }, Now: func() time.Time { return *now }}
	return w, q, m
}

// A poison anomaly on disk at start-up: the worker survives its panic, retries it
// with backoff a bounded number of times (counted across restarts), moves it to the
// dead letters with its error, and handles the anomalies after it all along.
func TestPoisonIsDeadLetteredAndTheRestGoesOn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "queue")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	p := &poison{}
	w, q, _ := newWorker(t, dir, p, &now)
	if _, err := q.Put([]intake.Anomaly{{Labels: map[string]string{"alertname": "poison"}}, {Labels: map[string]string{"alertname": "flaky"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Put([]intake.Anomaly{{Labels: map[string]string{"alertname": "good"}}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w.drain(ctx) // attempt 1 of poison and flaky; good is handled
	w.drain(ctx) // within the backoff: nothing is tried again
	if strings.Join(p.handled, ",") != "good" || q.Len() != 2 {
		t.Fatalf("handled %v, %d left", p.handled, q.Len())
	}
	now = now.Add(time.Minute)
	w.drain(ctx) // attempt 2
	_ = q.Close()

	// The process restarts: the attempts were counted on disk.
	w2, q2, m2 := newWorker(t, dir, p, &now)
	items, _ := q2.Pending()
	if len(items) != 2 || items[0].Attempts != 2 {
		t.Fatalf("after restart: %+v", items)
	}
	w2.drain(ctx) // attempt 3: poison is given up on; flaky too (still failing)
	dead, err := queue.ListDead(dir)
	if err != nil || len(dead) != 2 || !strings.Contains(dead[0].Error, "panic: runtime error: index out of range") || dead[1].Error != "git server unreachable" {
		t.Fatalf("dead letters %+v %v", dead, err)
	}
	if q2.Len() != 0 || testutil.ToFloat64(m2.DeadLetters) != 2 {
		t.Fatalf("queue %d, dead letters counted %v", q2.Len(), testutil.ToFloat64(m2.DeadLetters))
	}
	// The outage is over: an operator retries flaky; it is queued again and handled.
	p.healed = true
	if err := queue.RetryDead(dir, dead[1].Item.ID); err != nil {
		t.Fatal(err)
	}
	if err := queue.DropDead(dir, dead[0].Item.ID); err != nil {
		t.Fatal(err)
	}
	w2.drain(ctx)
	if strings.Join(p.handled, ",") != "good,flaky" || q2.Len() != 0 {
		t.Fatalf("handled %v, %d left", p.handled, q2.Len())
	}
	if dead, _ := queue.ListDead(dir); len(dead) != 0 {
		t.Fatalf("dead letters left: %+v", dead)
	}
	if err := queue.RetryDead(dir, "../../etc/passwd"); err == nil {
		t.Fatal("a path was taken for an id")
	}
}
