package bounds_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/bounds"
)

var now = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func res(id string, ago time.Duration) bounds.Reservation {
	return bounds.Reservation{ID: id, Runbook: "scale-out-api", Policy: "production", At: now.Add(-ago)}
}

// A reservation counts until the forge lists its proposal; as open only within its
// lease (a replica that died before opening the pull request frees the slot), as
// made this hour for the hour; an older proposal of the same target does not stand
// for it, and the newest reservation of an id is the one that counts.
func TestPendingCountsWhatTheForgeDoesNotKnowYet(t *testing.T) {
	var l bounds.Ledger
	for _, r := range []bounds.Reservation{res("a", 2*time.Minute), res("b", 30*time.Minute), res("c", 90*time.Minute), res("d", time.Minute), res("e", 5*time.Second)} {
		var err error
		if l, err = l.With(r, now); err != nil {
			t.Fatal(err)
		}
	}
	if len(l) != 4 {
		t.Fatalf("the reservation older than the window is kept: %v", l)
	}
	// The forge lists d's proposal, and an old closed one of e's target.
	known := func(r bounds.Reservation) bool { return r.ID == "d" }
	held := map[string]bounds.Held{}
	for _, h := range l.Pending(known, now, bounds.DefaultLease) {
		held[h.ID] = h
	}
	want := map[string][2]bool{"a": {true, true}, "b": {false, true}, "e": {true, true}}
	if len(held) != len(want) {
		t.Fatalf("held %v, want %v", held, want)
	}
	for id, w := range want {
		if h, ok := held[id]; !ok || h.Open != w[0] || h.LastHour != w[1] {
			t.Errorf("%s: %+v, want open %v, last hour %v", id, h, w[0], w[1])
		}
	}
}

// The lease is the operator's (limits.reservation_lease): a shorter one frees the
// slot of a dead replica's reservation sooner, and the newest reservation of an id
// is the one whose lease counts.
func TestTheLeaseIsTheOneConfigured(t *testing.T) {
	var l bounds.Ledger
	for _, r := range []bounds.Reservation{res("a", 2*time.Minute), res("b", 20*time.Second), res("c", 50*time.Minute), res("c", 40*time.Second)} {
		var err error
		if l, err = l.With(r, now); err != nil {
			t.Fatal(err)
		}
	}
	none := func(bounds.Reservation) bool { return false }
	for _, c := range []struct {
		lease time.Duration
		open  string
	}{{bounds.DefaultLease, "a b c"}, {time.Minute, "b c"}, {bounds.MinLease, "b"}} {
		var open []string
		for _, h := range l.Pending(none, now, c.lease) {
			if h.Open {
				open = append(open, h.ID)
			}
			if !h.LastHour {
				t.Errorf("lease %s: %s is not counted for the hour", c.lease, h.ID)
			}
		}
		slices.Sort(open)
		if got := strings.Join(open, " "); got != c.open {
			t.Errorf("lease %s: open %q, want %q", c.lease, got, c.open)
		}
		for _, id := range []string{"a", "b", "c", "d"} {
			if got, want := l.Holds(id, now, c.lease), strings.Contains(c.open, id); got != want {
				t.Errorf("lease %s: Holds(%s) = %v, want %v", c.lease, id, got, want)
			}
		}
	}
}

// The ledger reads back as written, in time order, and a line that is not a
// reservation (the ref is in a repository people push to) is skipped.
func TestLedgerReadsBackAndSkipsJunk(t *testing.T) {
	l, err := bounds.Ledger{}.With(res("b", time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	if l, err = l.With(res("a", 2*time.Minute), now); err != nil {
		t.Fatal(err)
	}
	data := strings.Repeat("x", 70_000) + "\n" + string(l.Encode()) + "junk\n2026-12-07T09:59:00Z only-three fields\nnot-a-time a b c\n"
	got := bounds.Parse([]byte(data))
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" || !got[0].At.Equal(now.Add(-2*time.Minute)) {
		t.Fatalf("read back %+v from %q", got, data)
	}
	for _, bad := range []bounds.Reservation{{ID: "", Runbook: "r", Policy: "p", At: now}, {ID: "a b", Runbook: "r", Policy: "p", At: now}, {ID: "a", Runbook: "r\n", Policy: "p", At: now}} {
		if _, err := l.With(bad, now); err == nil {
			t.Errorf("reserved %+v", bad)
		}
	}
}

// The ledger is text anyone with push access can write: reading never fails nor
// yields a reservation that could not have been written, and what is written reads
// back the same.
func FuzzParse(f *testing.F) {
	f.Add([]byte("2026-12-07T09:59:00.123Z a scale-out-api production\n"), "id", "rb", "pol")
	f.Add([]byte("junk\n\n2026-12-07T09:59:00Z a b\n"), "x y", "rb", "pol")
	f.Add([]byte(strings.Repeat("a", 5000)+"\n2026-12-07T09:59:00Z a b c\n"), "a", "b", "c")
	f.Fuzz(func(t *testing.T, data []byte, id, runbook, policy string) {
		for _, r := range bounds.Parse(data) {
			for _, name := range []string{r.ID, r.Runbook, r.Policy} {
				if name == "" || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
					t.Fatalf("read %+v", r)
				}
			}
		}
		l, err := bounds.Ledger{}.With(bounds.Reservation{ID: id, Runbook: runbook, Policy: policy, At: now}, now)
		if err != nil {
			return
		}
		back := bounds.Parse(l.Encode())
		if len(back) != 1 || back[0].ID != id || back[0].Runbook != runbook || back[0].Policy != policy || !back[0].At.Equal(now) {
			t.Fatalf("%+v read back as %+v", l, back)
		}
	})
}
