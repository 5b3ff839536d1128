package queue

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
)

func TestQueueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clock := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	q, err := Open(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := q.Put([]intake.Anomaly{
		{Labels: map[string]string{"alertname": "A"}, Status: "firing", Fingerprint: "1"},
		{Labels: map[string]string{"alertname": "B"}, Status: "firing", Fingerprint: "2"},
	})
	if err != nil || len(ids) != 2 {
		t.Fatalf("put: %v %v", ids, err)
	}
	// An interrupted write from a crash: a .tmp file never acknowledged.
	if err := os.WriteFile(filepath.Join(dir, "x.json.tmp"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A new process opens the same directory.
	q2, err := Open(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	items, err := q2.Pending()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Anomaly.Labels["alertname"] != "A" || items[1].Anomaly.Labels["alertname"] != "B" {
		t.Fatalf("after restart: %+v", items)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json.tmp")); !os.IsNotExist(err) {
		t.Fatal("unacknowledged partial write left behind")
	}
	if err := q2.Done(items[0].ID); err != nil {
		t.Fatal(err)
	}
	if q2.Len() != 1 {
		t.Fatalf("len %d after done", q2.Len())
	}
	// A corrupt file is set aside, not lost and not retried forever.
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000000-000000-1.json"), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	items, _ = q2.Pending()
	if len(items) != 1 {
		t.Fatalf("pending with a corrupt file: %d", len(items))
	}
	if _, err := os.Stat(filepath.Join(dir, "00000000000000000000-000000-1.json.corrupt")); err != nil {
		t.Fatal("corrupt file not kept aside")
	}
}
