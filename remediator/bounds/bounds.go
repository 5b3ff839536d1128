// Package bounds keeps the policy limits exact across replicas. Each replica counts
// the proposals the forge knows before it proposes; two replicas counting at once
// would each see room for one more. So every proposal also writes a reservation into
// a ledger (a ref of the infrastructure repository), pushed in one atomic
// compare-and-swap with the proposal's branch: of two replicas that counted the same
// ledger, one push wins, and the other reads the ledger again and counts the
// winner's reservation before it tries again. A reservation counts until the forge
// knows its proposal, or, for the open count, until its lease runs out (a replica that
// died between the push and opening the pull request does not hold the slot for
// long); for the hourly count, for the hour. A branch whose lease ran out before its
// proposal opened is counted again, as a new proposal, when it is opened later.
package bounds

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Ref is where the ledger lives in the infrastructure repository.
const Ref = "refs/remediation/reservations"

// File is the ledger's one file in the ref's tree.
const File = "reservations"

// DefaultLease is how long a reservation whose proposal the forge does not know yet
// counts as open, unless limits.reservation_lease says otherwise: the time a replica
// takes from its push to opening the pull request (retries of a busy forge
// included), with room to spare.
const DefaultLease = 10 * time.Minute

// MinLease is the shortest lease allowed: a live replica still opening its pull
// request must not lose its slot to the clocks' skew or one slow forge call.
const MinLease = 30 * time.Second

// Window is how long a reservation is kept: the hourly limits look back one hour.
// It is also the longest lease: a reservation is gone from the ledger after it.
const Window = time.Hour

// maxName bounds the names a reservation holds (ids, runbook and policy names are
// far shorter).
const maxName = 256

// Reservation is one proposal pushed, counted against the bounds.
type Reservation struct {
	// ID is the remediation id (the proposal's branch is remediation/<ID>).
	ID      string
	Runbook string
	Policy  string
	// At is when the reserving replica pushed, by its clock.
	At time.Time
}

// Ledger is the reservations of the last Window, oldest first.
type Ledger []Reservation

// Parse reads a ledger. Lines that are not a reservation are skipped: the ledger is
// in a repository people can push to, and a bad line must not stop the remediator
// (at worst it counts fewer reservations than were made, as before the ledger).
func Parse(data []byte) Ledger {
	var out Ledger
	// Line by line whatever their length: a long junk line hides none after it.
	for _, line := range bytes.Split(data, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) != 4 {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			continue
		}
		out = append(out, Reservation{At: at.UTC(), ID: f[1], Runbook: f[2], Policy: f[3]})
	}
	return out
}

// Encode writes the ledger, one reservation a line.
func (l Ledger) Encode() []byte {
	var b bytes.Buffer
	for _, r := range l {
		fmt.Fprintf(&b, "%s %s %s %s\n", r.At.UTC().Format(time.RFC3339Nano), r.ID, r.Runbook, r.Policy)
	}
	return b.Bytes()
}

// With is the ledger with r added and everything older than Window before now
// dropped, oldest first.
func (l Ledger) With(r Reservation, now time.Time) (Ledger, error) {
	for _, name := range []string{r.ID, r.Runbook, r.Policy} {
		if name == "" || len(name) > maxName || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
			return nil, fmt.Errorf("reservation of %q: a name %q is empty, longer than %d bytes or holds a space", r.ID, name, maxName)
		}
	}
	var out Ledger
	for _, k := range l {
		if k.At.After(now.Add(-Window)) {
			out = append(out, k)
		}
	}
	out = append(out, r)
	slices.SortStableFunc(out, func(a, b Reservation) int { return a.At.Compare(b.At) })
	return out, nil
}

// Pending are the reservations whose proposal the forge does not list yet (known
// says whether it does: the caller matches the id, and a proposal made around the
// reservation's time, not an older one of the same target), the newest of each id,
// and whether each still counts as open (within its lease) and as made in the last
// hour, at now.
func (l Ledger) Pending(known func(Reservation) bool, now time.Time, lease time.Duration) []Held {
	var out []Held
	seen := map[string]bool{}
	for i := len(l) - 1; i >= 0; i-- {
		r := l[i]
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		if known(r) {
			continue
		}
		h := Held{Reservation: r, Open: r.At.After(now.Add(-lease)), LastHour: r.At.After(now.Add(-Window))}
		if h.Open || h.LastHour {
			out = append(out, h)
		}
	}
	return out
}

// Holds says whether the newest reservation of id is within its lease at now: its
// slot is still reserved, so opening its proposal takes no new one. After the lease
// (the reserving replica died, and the slot may have gone to another proposal
// since) opening it is a new proposal to the bounds.
func (l Ledger) Holds(id string, now time.Time, lease time.Duration) bool {
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].ID == id {
			return l[i].At.After(now.Add(-lease))
		}
	}
	return false
}

// Held is a reservation as it counts now.
type Held struct {
	Reservation
	Open, LastHour bool
}
