package notify

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ClaimsRef is where the claims live in the infrastructure repository: a ref every
// replica already fetches (refs/remediation/*) and moves only by compare-and-swap.
const ClaimsRef = "refs/remediation/notified"

// ClaimsFile is the claims' one file in the ref's tree.
const ClaimsFile = "claims"

// CatchUpWindow is how far back a catch-up tells a lost event. It stays under the
// outbox's queue.SentRetention (14 days): an owner re-queues every event it claimed
// and can still derive, and only its outbox's memory of the delivery keeps that from
// sending it twice. It matches records.VerifyHorizon: a merge older than that gets no
// outcome from a pass either.
const CatchUpWindow = 7 * 24 * time.Hour

// claimKeep is how long a claim is kept: the window and a day for clocks that
// disagree, so no claim is dropped while its event can still be derived.
const claimKeep = CatchUpWindow + 24*time.Hour

// historyOwner owns the events the claims began with declined: history, which no
// replica tells (readOwner refuses it as a replica's name).
const historyOwner = "history"

// Claims say which replica tells each event: the one whose compare-and-swap of the
// ref wrote the event's claim first. Since is when the claims began (the first
// replica to run a catch-up wrote it, by its clock): nothing that happened before is
// caught up, so the first start after an upgrade does not tell old history again.
// The events that replica could see then are claimed by historyOwner: Git's times
// are seconds, so the claims' first second holds both history and what happened
// just after, and only that list tells them apart.
type Claims struct {
	Since time.Time
	ByID  map[string]Claim
}

// Claim is one event's owner and when it was claimed.
type Claim struct {
	Owner string
	At    time.Time
}

// ParseClaims reads the claims file. Lines that are not a claim are skipped (the ref
// is in a repository people can push to; a bad line must not stop the remediator).
// ok is false without a readable since line: such a file is no ledger, and the
// caller starts a new one.
func ParseClaims(data []byte) (c Claims, ok bool) {
	c.ByID = map[string]Claim{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		f := strings.Fields(string(line))
		switch {
		case len(f) == 2 && f[0] == "since":
			if at, err := unix(f[1]); err == nil {
				c.Since, ok = at, true
			}
		case len(f) == 3 && validName(f[0]) && validName(f[1]):
			at, err := unix(f[2])
			if err != nil {
				continue
			}
			if _, dup := c.ByID[f[0]]; dup {
				continue // the first claim of an id is the one that won
			}
			c.ByID[f[0]] = Claim{Owner: f[1], At: at}
		}
	}
	return c, ok
}

// Encode writes the claims: the since line, then a claim a line, oldest first.
func (c Claims) Encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "since %d\n", c.Since.Unix())
	ids := make([]string, 0, len(c.ByID))
	for id := range c.ByID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, z := c.ByID[ids[i]], c.ByID[ids[j]]
		if !a.At.Equal(z.At) {
			return a.At.Before(z.At)
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		fmt.Fprintf(&b, "%s %s %d\n", id, c.ByID[id].Owner, c.ByID[id].At.Unix())
	}
	return b.Bytes()
}

// begin is a new ledger, begun now with the events of history declined.
func begin(now time.Time, history []string) Claims {
	at := now.UTC().Truncate(time.Second)
	c := Claims{Since: at, ByID: make(map[string]Claim, len(history))}
	for _, id := range history {
		if validName(id) {
			c.ByID[id] = Claim{Owner: historyOwner, At: at}
		}
	}
	return c
}

// Tellable says whether a catch-up may tell an event that happened at: not before
// the claims began (to the second: an event of that same second the first catch-up
// saw is declined by its claim, see begin) and inside the window. A live event (this
// process just did it) is always tellable: a clock behind the one that wrote Since
// must not silence it.
func (c Claims) Tellable(happened, now time.Time) bool {
	return !happened.Before(c.Since) && now.Sub(happened) <= CatchUpWindow
}

// claim gives each event of ids without an owner to owner, drops the claims older
// than claimKeep, and says which of ids owner owns now and whether anything changed.
func (c Claims) claim(owner string, ids []string, now time.Time) (mine map[string]bool, changed bool) {
	mine = map[string]bool{}
	for id, cl := range c.ByID {
		if now.Sub(cl.At) > claimKeep {
			delete(c.ByID, id)
			changed = true
		}
	}
	for _, id := range ids {
		cl, ok := c.ByID[id]
		if !ok {
			cl = Claim{Owner: owner, At: now.UTC().Truncate(time.Second)}
			c.ByID[id], changed = cl, true
		}
		mine[id] = cl.Owner == owner
	}
	return mine, changed
}

func unix(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return time.Time{}, fmt.Errorf("read time %q: not seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// validName is an event id's or owner's alphabet, [a-z0-9_-], 1 to 128 bytes.
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}
