package notify

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
)

// The worker moved an anomaly to the dead letters and the process died before it
// told: the next start tells it, once, however often it starts; a dead letter from
// before receivers were configured here is history and is not told.
func TestDeadLettersLostToACrashAreToldOnce(t *testing.T) {
	rcv, dir := &told{got: map[string]int{}}, t.TempDir()
	began := time.Now()
	replica(t, dir, rcv, began, nil) // receivers configured: the owner file is made
	item := func(id string) queue.Item {
		return queue.Item{ID: id, Attempts: 9, Anomaly: intake.Anomaly{Labels: map[string]string{"alertname": "HighLatency"}}}
	}
	dead := []queue.Dead{
		{Item: item("old"), Error: "forge down", At: began.Add(-time.Hour)},
		{Item: item("lost"), Error: "forge down", At: began.Add(time.Minute)},
	}
	for start := 0; start < 3; start++ {
		reg := prometheus.NewRegistry()
		d := replica(t, dir, rcv, began.Add(time.Hour), reg)
		n, err := d.CatchUpDeadLetters(dead)
		want := 0
		if start == 0 {
			want = 1
		}
		if err != nil || n != want {
			t.Fatalf("start %d: told %d (%v)", start, n, err)
		}
		d.Flush(context.Background())
		if got := testutil.ToFloat64(d.o.Metrics.CaughtUp.WithLabelValues(string(DeadLettered))); got != float64(n) {
			t.Fatalf("start %d: caught-up counted %v", start, got)
		}
	}
	if rcv.count(key(DeadLettered, "lost")) != 1 || rcv.total() != 1 {
		t.Fatalf("told %v, want the lost dead letter once", rcv.got)
	}
}
