package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
)

// queue list shows what is queued and what was given up on; retry and drop act on
// dead letters; a bad id is bad input.
func TestQueueCommands(t *testing.T) {
	cfg := publishedCatalog(t)
	dir := filepath.Join(filepath.Dir(cfg), "state", "queue")
	q, err := queue.Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := q.Put([]intake.Anomaly{{Labels: map[string]string{"alertname": "Poison"}}, {Labels: map[string]string{"alertname": "Waiting"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Fail(ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := q.DeadLetter(ids[0], "panic: boom\ngoroutine 1"); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, "queue", "list", "--config", cfg)
	if code != 0 || !strings.Contains(out, "queued: 1\n  "+ids[1]) || !strings.Contains(out, "{alertname=Waiting}") ||
		!strings.Contains(out, "dead letters: 1\n  "+ids[0]) || !strings.Contains(out, "attempts 1") || !strings.Contains(out, "error: panic: boom\n") {
		t.Fatalf("list: %d %s %s", code, out, errs)
	}
	if code, out, _ := cli(t, "queue", "retry", "--config", cfg, ids[0]); code != 0 || out != "queued again: "+ids[0]+"\n" {
		t.Fatalf("retry: %d %s", code, out)
	}
	if code, _, errs := cli(t, "queue", "drop", "--config", cfg, ids[0]); code != 2 || !strings.Contains(errs, "no dead letter") {
		t.Fatalf("drop of a retried one: %d %s", code, errs)
	}
	if code, _, errs := cli(t, "queue", "retry", "--config", cfg, "../x"); code != 2 || !strings.Contains(errs, "is not a queue id") {
		t.Fatalf("bad id: %d %s", code, errs)
	}
	// The retried one comes back into the queue when serve's worker next passes.
	if n, err := q.TakeRetries(); err != nil || n != 1 || q.Len() != 2 {
		t.Fatalf("take retries: %d %v (len %d)", n, err, q.Len())
	}
}
