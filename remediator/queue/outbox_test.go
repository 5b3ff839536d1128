package queue

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestOutboxQueuesEachKeyOnce(t *testing.T) {
	dir := t.TempDir()
	o, err := OpenOutbox(dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	// Two processes (serve and a reconcile run) racing to queue one event.
	other, _ := OpenOutbox(dir, time.Now)
	var wg sync.WaitGroup
	queued := make(chan bool, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			box := o
			if i%2 == 1 {
				box = other
			}
			ok, err := box.Put("merged-abc", []byte(`{"n":1}`))
			if err != nil {
				t.Error(err)
			}
			queued <- ok
		}()
	}
	wg.Wait()
	close(queued)
	n := 0
	for ok := range queued {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("queued %d times", n)
	}
	pending, err := o.Pending()
	if err != nil || len(pending) != 1 || string(pending[0].Payload) != `{"n":1}` {
		t.Fatalf("pending %v %v", pending, err)
	}
	if err := o.Delivered("merged-abc"); err != nil {
		t.Fatal(err)
	}
	// Delivered: a restart finds nothing, and the key is not queued again.
	again, _ := OpenOutbox(dir, time.Now)
	if p, _ := again.Pending(); len(p) != 0 {
		t.Fatalf("pending after delivery: %v", p)
	}
	if ok, _ := again.Put("merged-abc", []byte(`{}`)); ok {
		t.Fatal("a delivered key was queued again")
	}
}

// A crash after the delivered marker and before the message's removal: the message
// is not delivered again.
func TestOutboxCrashAfterMarker(t *testing.T) {
	dir := t.TempDir()
	o, _ := OpenOutbox(dir, time.Now)
	if _, err := o.Put("verified-1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := writeSync(filepath.Join(dir, sentDir, "verified-1"), nil); err != nil {
		t.Fatal(err)
	}
	if p, _ := o.Pending(); len(p) != 0 {
		t.Fatalf("pending %v", p)
	}
	if _, err := os.Stat(filepath.Join(dir, "verified-1.json")); !os.IsNotExist(err) {
		t.Fatal("the delivered message is still there")
	}
}

func TestOutboxGiveUpAndBadKeys(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	o, _ := OpenOutbox(dir, func() time.Time { return now })
	for _, bad := range []string{"", "../x", "a/b", ".hidden"} {
		if _, err := o.Put(bad, nil); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
	if _, err := o.Put("failed-1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	p, _ := o.Pending()
	if err := o.GiveUp(p[0], "404"); err != nil {
		t.Fatal(err)
	}
	if n := o.Len(); n != 0 {
		t.Fatalf("%d left", n)
	}
	if ok, _ := o.Put("failed-1", []byte(`{}`)); ok {
		t.Fatal("a key given up on was queued again")
	}
	// Delivered keys are forgotten after the retention.
	if _, err := o.Put("merged-old", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := o.Delivered("merged-old"); err != nil {
		t.Fatal(err)
	}
	old := now.Add(-SentRetention - time.Hour)
	if err := os.Chtimes(filepath.Join(dir, sentDir, "merged-old"), old, old); err != nil {
		t.Fatal(err)
	}
	o2, _ := OpenOutbox(dir, func() time.Time { return now })
	if ok, _ := o2.Put("merged-old", []byte(`{}`)); !ok {
		t.Fatal("a key past the retention is still remembered")
	}
}

func TestOutboxClaimIsExclusive(t *testing.T) {
	dir := t.TempDir()
	a, _ := OpenOutbox(dir, time.Now)
	b, _ := OpenOutbox(dir, time.Now)
	release, ok := a.Claim()
	if !ok {
		t.Fatal("first claim failed")
	}
	if _, ok := b.Claim(); ok {
		t.Fatal("two deliverers")
	}
	release()
	if r, ok := b.Claim(); !ok {
		t.Fatal("claim after release failed")
	} else {
		r()
	}
}
