package notify

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// The claims read back as written; the first claim of an id is the one that won
// (a line someone appended later names no new owner); lines that are no claim are
// skipped, a long junk line hides nothing after it; without a since line the file is
// no ledger.
func TestClaimsReadBackAndFirstClaimWins(t *testing.T) {
	c := Claims{Since: t0, ByID: map[string]Claim{
		"merged-aa": {Owner: "r-1", At: t0.Add(time.Minute)},
		"failed-bb": {Owner: "r-2", At: t0.Add(2 * time.Minute)},
	}}
	data := c.Encode()
	for _, tc := range []struct {
		name      string
		data      string
		wantOK    bool
		wantOwner map[string]string
	}{
		{name: "as written", data: string(data), wantOK: true, wantOwner: map[string]string{"merged-aa": "r-1", "failed-bb": "r-2"}},
		{name: "a later line names no new owner", data: string(data) + "merged-aa thief " + "1796637600\n", wantOK: true,
			wantOwner: map[string]string{"merged-aa": "r-1"}},
		{name: "junk skipped", data: "since 1796637600\n" + strings.Repeat("x", 70000) + "\nMERGED-AA r-9 5\nmerged-cc r-3 notatime\nverified-dd r-4 1796637700\n",
			wantOK: true, wantOwner: map[string]string{"verified-dd": "r-4", "merged-cc": ""}},
		{name: "no since line", data: "merged-aa r-1 1796637600\n", wantOK: false, wantOwner: map[string]string{"merged-aa": "r-1"}},
		{name: "empty", data: "", wantOK: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseClaims([]byte(tc.data))
			if ok != tc.wantOK {
				t.Fatalf("ok %v, want %v", ok, tc.wantOK)
			}
			for id, owner := range tc.wantOwner {
				if got.ByID[id].Owner != owner {
					t.Errorf("%s owned by %q, want %q", id, got.ByID[id].Owner, owner)
				}
			}
		})
	}
	back, _ := ParseClaims(data)
	if !back.Since.Equal(t0) || !bytes.Equal(back.Encode(), data) {
		t.Fatalf("round trip:\n%s\nthen\n%s", data, back.Encode())
	}
}

// A claim goes to the first claimant; the claims of past the window and a day are
// dropped (their events are past every catch-up's window); the same claims again
// change nothing.
func TestClaimGivesEachIDOneOwner(t *testing.T) {
	c := Claims{Since: t0, ByID: map[string]Claim{
		"merged-old":   {Owner: "r-2", At: t0},
		"verified-two": {Owner: "r-2", At: t0.Add(7 * 24 * time.Hour)},
	}}
	now := t0.Add(8*24*time.Hour + time.Second)
	mine, changed := c.claim("r-1", []string{"verified-two", "failed-new"}, now)
	if !changed || mine["verified-two"] || !mine["failed-new"] {
		t.Fatalf("mine %v, changed %v", mine, changed)
	}
	if _, ok := c.ByID["merged-old"]; ok {
		t.Fatal("a claim older than the window and a day was kept")
	}
	if mine, changed := c.claim("r-2", []string{"failed-new", "verified-two"}, now); changed || mine["failed-new"] || !mine["verified-two"] {
		t.Fatalf("again: mine %v, changed %v", mine, changed)
	}
}

// A catch-up tells what happened since the claims began (to the second: what the
// first catch-up saw of that second is declined by its claims) and inside the window.
func TestTellableIsAfterSinceAndInsideTheWindow(t *testing.T) {
	c := Claims{Since: t0}
	soon, later := t0.Add(time.Hour), t0.Add(10*24*time.Hour)
	for _, tc := range []struct {
		at, now time.Time
		want    bool
	}{
		{t0.Add(-time.Second), soon, false},
		{t0, soon, true},
		{t0.Add(999 * time.Millisecond), soon, true},
		{t0.Add(time.Second), soon, true},
		{later.Add(-CatchUpWindow - time.Second), later, false},
		{later.Add(-CatchUpWindow), later, true},
		{later.Add(-time.Minute), later, true},
	} {
		if got := c.Tellable(tc.at, tc.now); got != tc.want {
			t.Errorf("Tellable(%s) at %s = %v, want %v", tc.at, tc.now, got, tc.want)
		}
	}
}

// The claims file is in a repository people can push to: whatever it holds, reading
// it never fails, and what is read writes back to the same claims.
func FuzzParseClaims(f *testing.F) {
	f.Add([]byte("since 1796637600\nmerged-aa r-1 1796637660\n"))
	f.Add([]byte("since 1796637600\nmerged-aa r-1 1796637660\nmerged-aa r-2 1796637600\n"))
	f.Add([]byte("since -1\nx\x0by 1 2\n\n"))
	f.Add([]byte("since 99999999999999999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ok := ParseClaims(data)
		if !ok {
			return
		}
		again, ok := ParseClaims(c.Encode())
		if !ok || !again.Since.Equal(c.Since) || len(again.ByID) != len(c.ByID) {
			t.Fatalf("read back %+v, want %+v", again, c)
		}
		for id, cl := range c.ByID {
			if again.ByID[id] != cl {
				t.Fatalf("%s read back as %+v, want %+v", id, again.ByID[id], cl)
			}
		}
	})
}
