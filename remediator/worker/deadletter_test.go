package worker

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
)

// Whoever listens is told of each anomaly moved to the dead letters, once, with
// its error: the operators' cue to look.
func TestDeadLetterIsTold(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "queue")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	w, q, _ := newWorker(t, dir, &poison{}, &now)
	var told []string
	w.DeadLettered = func(it queue.Item, reason string) { told = append(told, it.Anomaly.Labels["alertname"]+": "+reason) }
	if _, err := q.Put([]intake.Anomaly{{Labels: map[string]string{"alertname": "flaky"}}, {Labels: map[string]string{"alertname": "good"}}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		w.drain(context.Background())
		now = now.Add(time.Hour)
	}
	w.drain(context.Background())
	if len(told) != 1 || told[0] != "flaky: git server unreachable" {
		t.Fatalf("told %q", told)
	}
}
