package queue

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	// A corrupt file of the earlier one-file-per-anomaly layout is set aside, not
	// lost and not retried forever.
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000000-000000-1.json"), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	q3, err := Open(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if items, _ := q3.Pending(); len(items) != 1 {
		t.Fatalf("pending with a corrupt file: %d", len(items))
	}
	if _, err := os.Stat(filepath.Join(dir, "00000000000000000000-000000-1.json.corrupt")); err != nil {
		t.Fatal("corrupt file not kept aside")
	}
}

func TestOneAppendPerNotificationResumesAfterTheLastHandled(t *testing.T) {
	dir := t.TempDir()
	q, err := Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	alerts := make([]intake.Anomaly, 100)
	for i := range alerts {
		alerts[i] = intake.Anomaly{Labels: map[string]string{"alertname": "A", "n": strconv.Itoa(i)}, Status: "firing"}
	}
	ids, err := q.Put(alerts)
	if err != nil || len(ids) != 100 {
		t.Fatalf("put: %d %v", len(ids), err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 1 || len(segs) != 1 {
		t.Fatalf("100 anomalies of one notification: %v", files)
	}
	for _, id := range ids[:3] {
		if err := q.Done(id); err != nil {
			t.Fatal(err)
		}
	}
	// A crash while recording the fourth as handled: its line is cut short; and one
	// while appending a second notification: its record is torn (never acknowledged).
	f, err := os.OpenFile(strings.TrimSuffix(segs[0], ".log")+".done", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(ids[3][:len(ids[3])-1])
	f.Close()
	torn := record([]byte(`{"id":"x","anomalies":[{}]}`))
	f, err = os.OpenFile(segs[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(torn[:len(torn)-5])
	f.Close()
	_ = q.Close()

	q2, err := Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	items, err := q2.Pending()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 97 || items[0].ID != ids[3] || items[0].Anomaly.Labels["n"] != "3" || q2.Len() != 97 {
		t.Fatalf("after restart: %d pending from %s (len %d)", len(items), items[0].ID, q2.Len())
	}
	// The restart writes to a segment of its own; the old one goes when handled.
	more, err := q2.Put(alerts[:1])
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range append(items, Item{ID: more[0]}) {
		if err := q2.Done(it.ID); err != nil {
			t.Fatal(err)
		}
	}
	if q2.Len() != 0 {
		t.Fatalf("len %d", q2.Len())
	}
	if _, err := os.Stat(segs[0]); !os.IsNotExist(err) {
		t.Fatal("the first segment stayed after all of it was handled")
	}
	q3, err := Open(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if q3.Len() != 0 {
		t.Fatalf("handled anomalies came back: %d", q3.Len())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// A process killed (SIGKILL) while it appends loses nothing it acknowledged: every id
// Put returned is pending after a restart, once, and a torn record is dropped.
func TestQueueSurvivesSIGKILLDuringWrites(t *testing.T) {
	if dir := os.Getenv("QUEUE_CRASH_CHILD"); dir != "" {
		q, err := Open(dir, time.Now)
		if err != nil {
			os.Exit(3)
		}
		batch := make([]intake.Anomaly, 50)
		for i := range batch {
			batch[i] = intake.Anomaly{Labels: map[string]string{"alertname": "A", "n": strconv.Itoa(i), "pad": strings.Repeat("x", 200)}, Status: "firing"}
		}
		for {
			ids, err := q.Put(batch)
			if err != nil {
				os.Exit(4)
			}
			// Acknowledged: as the HTTP reply would, after Put returned.
			if _, err := os.Stdout.WriteString(strings.Join(ids, " ") + "\n"); err != nil {
				os.Exit(5)
			}
		}
	}
	dir := t.TempDir()
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestQueueSurvivesSIGKILLDuringWrites$")
		cmd.Env = append(os.Environ(), "QUEUE_CRASH_CHILD="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := map[string]bool{}
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		lines := 0
		for sc.Scan() {
			for _, id := range strings.Fields(sc.Text()) {
				acked[id] = true
			}
			if lines++; lines == 40+round*25 {
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		_ = cmd.Wait()
		q, err := Open(dir, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		items, _ := q.Pending()
		seen := map[string]bool{}
		for _, it := range items {
			if seen[it.ID] {
				t.Fatalf("round %d: %s pending twice", round, it.ID)
			}
			seen[it.ID] = true
		}
		for id := range acked {
			if !seen[id] {
				t.Fatalf("round %d: acknowledged %s lost (%d acknowledged, %d pending)", round, id, len(acked), len(items))
			}
		}
		// Handle everything, as the worker would, before the next round.
		for _, it := range items {
			if err := q.Done(it.ID); err != nil {
				t.Fatal(err)
			}
		}
		_ = q.Close()
	}
}
