package catalogstore

import (
	"testing"
	"time"
)

// TestCommitterLingersForAShareOfAPush: after a push that carried several writes, the
// committer waits for writes to stop arriving for a quarter of what that push cost
// (at most 60 ms) and never longer than the push itself; after a lone write, or long
// after the last push, it does not wait.
func TestCommitterLingersForAShareOfAPush(t *testing.T) {
	cases := []struct {
		name     string
		took     time.Duration
		batch    int
		since    time.Duration // from the last push to now
		arriving time.Duration // writes keep arriving this often while it waits (0: none)
		want     time.Duration // how long gather waits, within a poll
	}{
		{"fast server", 24 * time.Millisecond, 10, 0, 0, 6 * time.Millisecond},
		{"slow server", 2 * time.Second, 10, 0, 0, batchQuiet},
		{"slow server, writes still arriving", 2 * time.Second, 10, 0, 20 * time.Millisecond, batchMaxWait},
		{"fast server, writes still arriving", 24 * time.Millisecond, 10, 0, 4 * time.Millisecond, 24 * time.Millisecond},
		{"a lone writer", 2 * time.Second, 1, 0, 0, 0},
		{"long after the last push", 2 * time.Second, 10, time.Second, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := time.Unix(1_700_000_000, 0)
			s := &Store{opts: Options{Now: func() time.Time { return now }}}
			nextArrival := now.Add(c.arriving)
			s.opts.Sleep = func(d time.Duration) {
				now = now.Add(d)
				if c.arriving > 0 && !now.Before(nextArrival) {
					s.mu.Lock()
					s.lastArrival = now
					s.mu.Unlock()
					nextArrival = now.Add(c.arriving)
				}
			}
			s.lastPush, s.lastBatch, s.lastPushTook = now.Add(-c.since), c.batch, c.took
			s.lastArrival = now
			start := now
			s.gather()
			if waited := now.Sub(start); waited < c.want || waited > c.want+batchPoll {
				t.Errorf("waited %v, want %v", waited, c.want)
			}
		})
	}
}
