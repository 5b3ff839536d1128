package records_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/infratest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// remediatorKey makes a remediator's signing key, as state_dir holds it.
func remediatorKey(t testing.TB) *signing.Key {
	t.Helper()
	file := filepath.Join(t.TempDir(), "signing_key")
	if err := signing.GenerateKeyFile(file); err != nil {
		t.Fatal(err)
	}
	k, err := signing.LoadKey(file)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// history makes an infrastructure repository whose main holds one merge per entry,
// oldest first: "<version> <outcome> [how]" (outcome verified, failed, not-applied or
// pending). The remediator signs the merge and seals the outcome note, unless how
// says otherwise: "hand" (merged and noted by a person, with the same trailers),
// "unsealed" (the remediator's merge, its note written by a person), or "rollback"
// (the remediator's rollback of the previous entry).
func history(t *testing.T, entries ...string) (*infrarepo.Repo, *signing.Key) {
	t.Helper()
	bare, work := infratest.Work(t)
	key := infratest.Key(t, work)
	ids := make([]string, len(entries))
	for i, e := range entries {
		f := append(strings.Fields(e), "")
		version, outcome, how := f[0], f[1], f[2]
		ids[i] = fmt.Sprintf("scale-%010d", i)
		if how == "rollback" {
			ids[i] = ids[i-1] + "-rollback"
		}
		gittest.Run(t, work, "checkout", "-q", "-b", "b"+fmt.Sprint(i), "main")
		gittest.WriteFile(t, filepath.Join(work, "f"+fmt.Sprint(i)), e)
		gittest.Run(t, work, "add", "-A")
		gittest.Run(t, work, "commit", "-qm", "change "+e)
		gittest.Run(t, work, "checkout", "-q", "main")
		merge := []string{"merge", "-S", "-q", "--no-ff", "-m",
			fmt.Sprintf("Merge remediation %s\n\nRemediation-Id: %s\nRunbook: scale\nRunbook-Version: %s\n", ids[i], ids[i], version), "b" + fmt.Sprint(i)}
		if how == "hand" {
			merge[1] = "--no-gpg-sign"
		}
		gittest.Run(t, work, merge...)
		if outcome == "pending" {
			continue
		}
		note := []byte("outcome: " + outcome + "\n")
		if how == "" || how == "rollback" {
			sha := plumbing.NewHash(gittest.Run(t, work, "rev-parse", "HEAD"))
			var err error
			if note, err = records.Seal(key, records.KindOutcome, sha, string(note)); err != nil {
				t.Fatal(err)
			}
		}
		file := filepath.Join(t.TempDir(), "note")
		gittest.WriteFile(t, file, string(note))
		gittest.Run(t, work, "notes", "--ref=remediation", "add", "-F", file, "HEAD")
	}
	gittest.Run(t, work, "push", "-q", "origin", "main", "refs/notes/remediation")
	return infratest.Open(t, bare, nil), key
}

func recordOf(t *testing.T, repo *infrarepo.Repo, key *signing.Key, version string) records.Record {
	t.Helper()
	rec, err := records.History{Repo: repo, Base: "main", Remediator: key.Public(), Now: time.Now()}.RecordOf("scale", version)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// Autonomy is earned per runbook version: two verified runs of version A let A
// auto-merge; version B starts from nothing; one failure starts the count over; a
// change never applied and a rollback's outcome are no evidence either way.
func TestAutonomyIsEarnedPerVersion(t *testing.T) {
	repo, key := history(t,
		"A verified", "A not-applied", "A verified", "X failed", "X verified rollback",
		"B verified", "B failed", "B verified", "B pending")
	am := runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 2}
	for _, tc := range []struct {
		version                  string
		streak, verified, failed int
		earned                   bool
		why                      string
	}{
		{"A", 2, 2, 0, true, ""},
		// Its newest merge awaits its outcome: not known is not a success.
		{"B", 0, 2, 1, false, "runbook scale version B has 0 verified run(s) in a row, auto-merge needs 2 (counted since a merge at "},
		{"C", 0, 0, 0, false, "version C has 0 verified run(s) in a row"},
		{"X", 0, 0, 1, false, "version X has 0 verified run(s) in a row"},
	} {
		rec := recordOf(t, repo, key, tc.version)
		if rec.Streak != tc.streak || rec.Verified != tc.verified || rec.Failed != tc.failed {
			t.Errorf("%s: record %+v", tc.version, rec)
		}
		ok, why := rec.Earned(am)
		if ok != tc.earned || !strings.Contains(why, tc.why) {
			t.Errorf("%s: earned %v (%s), want %v (%s)", tc.version, ok, why, tc.earned, tc.why)
		}
	}
	// One walk for every version reads the same records as a walk per version.
	all, err := records.History{Repo: repo, Base: "main", Remediator: key.Public(), Now: time.Now()}.AllRecords()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"A", "B", "C"} {
		if one := recordOf(t, repo, key, v); all.Of("scale", v) != one {
			t.Errorf("%s: all %+v, one %+v", v, all.Of("scale", v), one)
		}
	}
	if rec := recordOf(t, repo, key, "A"); rec.NotApplied != 1 {
		t.Errorf("not-applied of A: %d", rec.NotApplied)
	}
	if rec := recordOf(t, repo, key, "B"); rec.Pending != 1 {
		t.Errorf("pending of B: %d", rec.Pending)
	}
}

// Tried as someone with push access would: merges made by hand with the runbook's
// trailers and "outcome: verified" notes earn nothing; replacing the note of a failed
// remediation, or deleting the note of one that was rolled back, breaks the streak
// rather than restore it; a note sealed for one merge is worthless on another; and
// a record read with another key than the remediator's counts nothing.
func TestOutcomesOnlyTheRemediatorSealedCount(t *testing.T) {
	am := runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 2}
	for _, tc := range []struct {
		name    string
		entries []string
		streak  int
		check   func(t *testing.T, rec records.Record)
	}{
		{name: "merges by hand", entries: []string{"A verified hand", "A verified hand", "A verified hand"}, streak: 0,
			check: func(t *testing.T, rec records.Record) {
				if rec.Verified != 0 || rec.Pending != 0 {
					t.Errorf("merges by hand counted: %+v", rec)
				}
			}},
		{name: "a failure's note replaced", entries: []string{"A verified", "A verified", "A verified unsealed", "A verified"}, streak: 1,
			check: func(t *testing.T, rec records.Record) {
				if rec.Unaccounted != 1 || rec.LastUnaccounted.IsZero() {
					t.Errorf("replaced note not unaccounted: %+v", rec)
				}
				if _, why := rec.Earned(am); !strings.Contains(why, "whose outcome the remediator cannot vouch for") {
					t.Errorf("why: %s", why)
				}
			}},
		{name: "a rolled-back failure's note deleted", entries: []string{"A verified", "A verified", "A pending", "A none rollback"}, streak: 0,
			check: func(t *testing.T, rec records.Record) {
				if rec.Failed != 1 {
					t.Errorf("the rollback's merge does not make its remediation a failure: %+v", rec)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, key := history(t, tc.entries...)
			rec := recordOf(t, repo, key, "A")
			if rec.Streak != tc.streak {
				t.Errorf("streak %d, want %d: %+v", rec.Streak, tc.streak, rec)
			}
			if ok, _ := rec.Earned(am); ok != (tc.streak >= 2) {
				t.Errorf("earned %v with streak %d", ok, rec.Streak)
			}
			tc.check(t, rec)
		})
	}
	t.Run("another key", func(t *testing.T) {
		repo, _ := history(t, "A verified", "A verified")
		other := remediatorKey(t)
		if rec := recordOf(t, repo, other, "A"); rec.Streak != 0 || rec.Verified != 0 {
			t.Errorf("read with another key: %+v", rec)
		}
	})
}

// A seal binds the record to its kind and its commit.
func TestSealBindsKindAndCommit(t *testing.T) {
	key := remediatorKey(t)
	a, b := plumbing.NewHash(strings.Repeat("a", 40)), plumbing.NewHash(strings.Repeat("b", 40))
	note, err := records.Seal(key, records.KindOutcome, a, "outcome: verified")
	if err != nil {
		t.Fatal(err)
	}
	if ev := records.ReadOutcome(note, a, key.Public()); ev.Outcome != forge.OutcomeVerified || ev.Tampered != "" {
		t.Fatalf("own seal: %+v", ev)
	}
	other := remediatorKey(t)
	for name, ev := range map[string]records.Evidence{
		"another commit":  records.ReadOutcome(note, b, key.Public()),
		"another key":     records.ReadOutcome(note, a, other.Public()),
		"edited body":     records.ReadOutcome([]byte(strings.Replace(string(note), "verified", "failed", 1)), a, key.Public()),
		"unsigned":        records.ReadOutcome([]byte("outcome: verified\n"), a, key.Public()),
		"no key to check": records.ReadOutcome(note, a, nil),
	} {
		if ev.Outcome != "" || ev.Tampered == "" {
			t.Errorf("%s: %+v", name, ev)
		}
	}
	progress := fmt.Sprintf("applied_at: %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	if p := records.ReadProgress([]byte(progress), a, key.Public()); !p.AppliedAt.IsZero() || !p.ResolvedSince.IsZero() || p.DecidedOn != nil {
		t.Errorf("unsealed progress believed: %+v", p)
	}
	sealed, err := records.Seal(key, records.KindProgress, a, progress)
	if err != nil {
		t.Fatal(err)
	}
	if p := records.ReadProgress(sealed, a, key.Public()); p.AppliedAt.IsZero() {
		t.Errorf("sealed progress not read")
	}
	if p := records.ReadProgress(note, a, key.Public()); !p.AppliedAt.IsZero() || !p.ResolvedSince.IsZero() || p.DecidedOn != nil {
		t.Errorf("an outcome seal passed for progress: %+v", p)
	}
}

// The success rate is judged by its lower confidence bound, not the raw ratio.
func TestSuccessRateLowerBound(t *testing.T) {
	for _, tc := range []struct {
		verified, failed int
		want             float64
	}{
		{0, 0, 0},
		{3, 0, 0.4385},
		{10, 0, 0.7225},
		{50, 0, 0.9287},
		{45, 5, 0.7864},
		{0, 3, 0},
	} {
		got := records.Record{Verified: tc.verified, Failed: tc.failed}.SuccessLowerBound()
		if math.Abs(got-tc.want) > 0.0005 {
			t.Errorf("%d/%d: %.4f, want %.4f", tc.verified, tc.failed, got, tc.want)
		}
	}
	rec := records.Record{Runbook: "scale", Version: "A", Verified: 10, Streak: 10}
	if ok, why := rec.Earned(runbooks.AutoMerge{MinVerifiedRuns: 2, MinSuccessRate: 0.8}); ok || !strings.Contains(why, "at least 0.72 at 95% confidence; auto-merge needs 0.80") {
		t.Errorf("10 of 10 against 0.8: %v %s", ok, why)
	}
	rec.Verified, rec.Streak = 50, 50
	if ok, why := rec.Earned(runbooks.AutoMerge{MinVerifiedRuns: 2, MinSuccessRate: 0.8}); !ok {
		t.Errorf("50 of 50 against 0.8: %s", why)
	}
}

// The circuit breaker counts the remediator's sealed failures, fails closed on a
// failure's note replaced by someone else (it counts as one), counts a merge whose
// rollback merged whatever its note says, and never counts merges made by hand.
func TestBreakerCountsOnlyTheRemediatorsFailures(t *testing.T) {
	for _, tc := range []struct {
		entries []string
		want    int
	}{
		{[]string{"A failed", "A failed"}, 2},
		{[]string{"A failed hand", "A failed hand", "A failed hand"}, 0},
		{[]string{"A verified unsealed"}, 1},
		{[]string{"A pending", "A none rollback"}, 1},
		{[]string{"A verified", "A not-applied"}, 0},
	} {
		repo, key := history(t, tc.entries...)
		h := records.History{Repo: repo, Base: "main", Remediator: key.Public(), Now: time.Now()}
		failures, err := h.Failures("scale", time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(failures) != tc.want {
			t.Errorf("%v: %d failure(s), want %d", tc.entries, len(failures), tc.want)
		}
	}
}
