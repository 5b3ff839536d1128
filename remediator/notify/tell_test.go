package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// memClaims is a ClaimStore every test replica shares: its lock is the
// compare-and-swap (an update reads what the last writer wrote).
type memClaims struct {
	mu   sync.Mutex
	data []byte
	fail error
}

func (m *memClaims) Read() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.data...), nil
}

func (m *memClaims) Update(_ context.Context, update func([]byte) ([]byte, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	var old []byte
	if m.data != nil {
		old = append([]byte(nil), m.data...)
	}
	next, err := update(old)
	if err != nil {
		return err
	}
	if old == nil || !bytes.Equal(next, old) {
		m.data = next
	}
	return nil
}

// told records each delivery by event id, across replicas.
type told struct {
	mu  sync.Mutex
	got map[string]int
}

func (r *told) Notify(_ context.Context, e *Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[e.ID]++
	return nil
}

func (r *told) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

func (r *told) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.got {
		n += c
	}
	return n
}

// replica is one remediator's dispatcher on its own state directory at a fixed
// clock, delivering to rcv.
func replica(t *testing.T, dir string, rcv Notifier, now time.Time, reg prometheus.Registerer) *Dispatcher {
	t.Helper()
	var m *Metrics
	if reg != nil {
		m = NewMetrics(reg)
	}
	d, err := New(Options{Dir: dir, Metrics: m, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
		Receivers: []Receiver{{Name: "hook", Integration: "webhook", Notifier: rcv}}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ev(k Kind, id string, at time.Time) Event {
	return Event{Kind: k, ID: key(k, id), At: at, RemediationID: id, Runbook: "scale-out"}
}

func cand(e Event) Candidate {
	return Candidate{ID: e.ID, Kind: e.Kind, At: e.At, Build: func() []Event { return []Event{e} }}
}

// The merge happened and the process died before its event was queued: the
// replica, restarted, finds it in Git (a candidate), tells it once, and never again
// at later passes; the metric counts the catch-up. Whether it died before its claim
// or between its claim and its queue, the receiver is told once.
func TestACrashBetweenTheActionAndItsEventIsCaughtUpOnce(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name        string
		claimBefore bool // the dead process claimed the event before it died
	}{
		{name: "died before its claim"},
		{name: "died between its claim and its queue", claimBefore: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, rcv, dir := &memClaims{}, &told{got: map[string]int{}}, t.TempDir()
			first := replica(t, dir, rcv, t0, nil)
			proposed := ev(ProposalWaiting, "scale-out-1", t0)
			first.Tell(context.Background(), store, []Event{proposed}, nil) // the claims begin
			merged, verified := ev(Merged, "scale-out-1", t0.Add(time.Minute)), ev(Verified, "scale-out-1", t0.Add(2*time.Minute))
			if tc.claimBefore {
				if _, err := first.claim(context.Background(), store, []Event{merged, verified}, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			// The restart: a new dispatcher on the same state directory.
			reg := prometheus.NewRegistry()
			again := replica(t, dir, rcv, now, reg)
			for pass := 0; pass < 3; pass++ {
				again.Tell(context.Background(), store, nil, []Candidate{cand(proposed), cand(merged), cand(verified)})
				again.Flush(context.Background())
			}
			for _, e := range []Event{proposed, merged, verified} {
				if n := rcv.count(e.ID); n != 1 {
					t.Errorf("%s told %d times, want once", e.Kind, n)
				}
			}
			if n := testutil.ToFloat64(again.o.Metrics.CaughtUp.WithLabelValues(string(Merged))); n != 1 {
				t.Errorf("caught-up merged counted %v, want 1", n)
			}
		})
	}
}

// Two replicas each catch up the same lost events at once, and each tells what it
// did live: the receiver hears of each event once, from the replica whose claim won.
func TestTwoReplicasCatchingUpTellEachEventOnce(t *testing.T) {
	store, rcv := &memClaims{}, &told{got: map[string]int{}}
	a, b := replica(t, t.TempDir(), rcv, t0, nil), replica(t, t.TempDir(), rcv, t0, nil)
	begin := ev(ProposalWaiting, "first", t0)
	a.Tell(context.Background(), store, []Event{begin}, nil)
	var lost []Candidate
	var events []Event
	for _, id := range []string{"r1", "r2", "r3", "r4", "r5", "r6"} {
		for i, k := range []Kind{Merged, Failed, Suspended} {
			e := ev(k, id, t0.Add(time.Duration(i+1)*time.Second))
			events, lost = append(events, e), append(lost, cand(e))
		}
	}
	live := ev(Merged, "live", t0.Add(time.Second))
	var wg sync.WaitGroup
	for _, d := range []*Dispatcher{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pass := 0; pass < 4; pass++ {
				d.Tell(context.Background(), store, []Event{live}, lost)
				d.Flush(context.Background())
			}
		}()
	}
	wg.Wait()
	for _, e := range append(events, begin, live) {
		if n := rcv.count(e.ID); n != 1 {
			t.Errorf("%s of %s told %d times, want once", e.Kind, e.RemediationID, n)
		}
	}
}

// The first catch-up after an upgrade begins the claims: nothing that happened
// before is told (the receivers heard of it then, or it is history), later passes
// do not tell it either, and what happens after is caught up; nothing older than the
// window is caught up, whatever the claims say.
func TestTheFirstCatchUpTellsNoHistory(t *testing.T) {
	store, rcv := &memClaims{}, &told{got: map[string]int{}}
	var history []Candidate
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		history = append(history, cand(ev(Verified, id, t0.Add(-time.Duration(i+1)*time.Hour))))
	}
	d := replica(t, t.TempDir(), rcv, t0, nil)
	d.Tell(context.Background(), store, nil, history)
	d.Tell(context.Background(), store, nil, history)
	d.Flush(context.Background())
	if n := rcv.total(); n != 0 {
		t.Fatalf("the first start told %d old events", n)
	}
	c, ok := ParseClaims(store.data)
	if !ok || !c.Since.Equal(t0) || len(c.ByID) != len(history) {
		t.Fatalf("claims after the first catch-up: %s", store.data)
	}
	for _, h := range history {
		if c.ByID[h.ID].Owner != historyOwner {
			t.Fatalf("%s is not declined as history: %s", h.ID, store.data)
		}
	}
	after := ev(Merged, "f", t0.Add(time.Minute))
	later := replica(t, t.TempDir(), rcv, t0.Add(CatchUpWindow+2*time.Minute), nil)
	stale := replica(t, t.TempDir(), rcv, t0.Add(CatchUpWindow), nil)
	later.Tell(context.Background(), store, nil, append(history, cand(after)))
	later.Flush(context.Background())
	if n := rcv.total(); n != 0 {
		t.Fatalf("an event past the window was told (%d)", n)
	}
	stale.Tell(context.Background(), store, nil, append(history, cand(after)))
	stale.Flush(context.Background())
	if rcv.count(after.ID) != 1 || rcv.total() != 1 {
		t.Fatalf("told %v, want only the event after the claims began", rcv.got)
	}
}

// Git's times are seconds, so the claims' first second holds both what the first
// catch-up declined and what happened just after it began. A merge of that second,
// whose replica died before telling it, is caught up once after the restart; the
// history of that same second, which the first catch-up saw, is not.
func TestAnEventOfTheClaimsFirstSecondIsCaughtUp(t *testing.T) {
	store, rcv, dir := &memClaims{}, &told{got: map[string]int{}}, t.TempDir()
	old := ev(Verified, "scale-out-0", t0) // history, of the very second the claims begin
	first := replica(t, dir, rcv, t0.Add(300*time.Millisecond), nil)
	proposed := ev(ProposalWaiting, "scale-out-1", t0.Add(300*time.Millisecond))
	first.Tell(context.Background(), store, []Event{proposed}, []Candidate{cand(old)}) // the claims begin
	first.Flush(context.Background())
	// Merged within the same second (git records t0), then the replica died.
	merged := ev(Merged, "scale-out-1", t0)
	again := replica(t, dir, rcv, t0.Add(2*time.Second), nil)
	for pass := 0; pass < 3; pass++ {
		again.Tell(context.Background(), store, nil, []Candidate{cand(old), cand(proposed), cand(merged)})
		again.Flush(context.Background())
	}
	if rcv.count(merged.ID) != 1 || rcv.count(proposed.ID) != 1 || rcv.count(old.ID) != 0 {
		t.Fatalf("told %v, want the proposal and the merge once, not the history", rcv.got)
	}
}

// A first pass with nothing to tell and nothing to decline begins the claims all the
// same: a merge after it, lost by its replica, is caught up (had the claims begun
// only then, with that merge in view, it would have been declined as history).
func TestAQuietFirstPassBeginsTheClaims(t *testing.T) {
	store, rcv, dir := &memClaims{}, &told{got: map[string]int{}}, t.TempDir()
	replica(t, dir, rcv, t0, nil).Tell(context.Background(), store, nil, nil)
	if c, ok := ParseClaims(store.data); !ok || !c.Since.Equal(t0) || len(c.ByID) != 0 {
		t.Fatalf("claims after a quiet first pass: %q", store.data)
	}
	merged := ev(Merged, "scale-out-1", t0.Add(time.Minute))
	again := replica(t, dir, rcv, t0.Add(2*time.Minute), nil)
	again.Tell(context.Background(), store, nil, []Candidate{cand(merged)})
	again.Flush(context.Background())
	if rcv.count(merged.ID) != 1 {
		t.Fatalf("told %v, want the merge after the quiet pass once", rcv.got)
	}
}

// A replica's own name can never be the one history is declined under.
func TestHistoryIsNoReplicasName(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(historyOwner+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Dir: dir, Receivers: []Receiver{{Name: "hook", Integration: "webhook", Notifier: &told{got: map[string]int{}}}}}); err == nil {
		t.Fatal("a state directory whose owner is history was accepted")
	}
}

// A claim that cannot be written queues nothing (a replica that did could not be
// told apart from one that did not); the next pass's catch-up tells it, once. A
// live event is told even when the claims began after it by another clock.
func TestAFailedClaimIsCaughtUpLater(t *testing.T) {
	store, rcv, dir := &memClaims{}, &told{got: map[string]int{}}, t.TempDir()
	d := replica(t, dir, rcv, t0, nil)
	d.Tell(context.Background(), store, []Event{ev(ProposalWaiting, "x", t0)}, nil)
	merged := ev(Merged, "x", t0.Add(time.Minute))
	store.fail = errors.New("push refused")
	d.Tell(context.Background(), store, []Event{merged}, nil)
	d.Flush(context.Background())
	if n := rcv.count(merged.ID); n != 0 {
		t.Fatalf("an unclaimed event was told %d times", n)
	}
	store.fail = nil
	for pass := 0; pass < 2; pass++ {
		d.Tell(context.Background(), store, nil, []Candidate{cand(merged)})
		d.Flush(context.Background())
	}
	skewed := ev(Verified, "x", t0.Add(-time.Hour))
	d.Tell(context.Background(), store, []Event{skewed}, nil)
	d.Flush(context.Background())
	if rcv.count(merged.ID) != 1 || rcv.count(skewed.ID) != 1 {
		t.Fatalf("told %v", rcv.got)
	}
}

// Without receivers nothing is claimed (no push for a remediator that tells
// nobody) and live events still feed the metrics.
func TestNoReceiversClaimNothing(t *testing.T) {
	store := &memClaims{}
	d, err := New(Options{Dir: t.TempDir(), Metrics: NewMetrics(prometheus.NewRegistry())})
	if err != nil {
		t.Fatal(err)
	}
	e := ev(Merged, "x", t0)
	e.Times = Times{AnomalyStart: t0.Add(-time.Minute), Merged: t0}
	d.Tell(context.Background(), store, []Event{e}, []Candidate{cand(e)})
	if store.data != nil {
		t.Fatalf("claimed without receivers: %s", store.data)
	}
	if n := testutil.CollectAndCount(d.o.Metrics.TimeTo[ToMerge]); n != 1 {
		t.Fatalf("time to merge not observed (%d series)", n)
	}
	if _, err := os.Stat(filepath.Join(d.o.Dir, ownerFile)); err == nil {
		t.Fatal("an owner was made without receivers")
	}
}
