package catalogstore

import (
	"testing"
	"time"
)

// TestCommitterWaitsForTheRound: right after a push, once several writers have been
// seen at once, the committer gathers until every writer seen at once is waiting (the
// round is whole), or until twice the usual time a released writer takes to write
// again has passed since the push returned (at most batchMaxWait); a writer that never
// had company, or one long after the last push, does not wait.
func TestCommitterWaitsForTheRound(t *testing.T) {
	cases := []struct {
		name        string
		since       time.Duration // from the last push's return to now
		returnDelay time.Duration
		peak        int           // the most writers seen waiting at once
		pending     int           // writes queued when the committer starts
		arriving    time.Duration // one more write arrives this often (0: none)
		want        time.Duration // how long gather waits, within a poll
	}{
		{"the round is whole", 0, 40 * time.Millisecond, 10, 10, 0, 0},
		{"the rest of the round arriving", 0, 40 * time.Millisecond, 10, 4, 4 * time.Millisecond, 24 * time.Millisecond},
		{"fewer resources left than slots", 0, 40 * time.Millisecond, 10, 3, 0, 80 * time.Millisecond},
		{"the round's time partly spent", 50 * time.Millisecond, 40 * time.Millisecond, 10, 3, 0, 30 * time.Millisecond},
		{"a busy machine", 0, 1500 * time.Millisecond, 10, 3, 0, batchMaxWait},
		{"a lone writer", 0, 40 * time.Millisecond, 1, 1, 0, 0},
		{"after a push of one, others seen", 0, 40 * time.Millisecond, 10, 9, 0, 80 * time.Millisecond},
		{"long after the last push", time.Second, 40 * time.Millisecond, 10, 1, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := time.Unix(1_700_000_000, 0)
			s := &Store{opts: Options{Now: func() time.Time { return now }}}
			s.pending = make([]*op, c.pending)
			start := now
			nextArrival := now.Add(c.arriving)
			s.opts.Sleep = func(d time.Duration) {
				now = now.Add(d)
				if c.arriving > 0 && !now.Before(nextArrival) {
					s.mu.Lock()
					s.pending = append(s.pending, &op{})
					s.mu.Unlock()
					nextArrival = now.Add(c.arriving)
				}
			}
			s.lastPush, s.returnDelay, s.peakWaiting = now.Add(-c.since), c.returnDelay, c.peak
			s.gather()
			if waited := now.Sub(start); waited < c.want || waited > c.want+batchPoll {
				t.Errorf("waited %v, want %v", waited, c.want)
			}
		})
	}
}
