package lifecycle_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// history makes an infrastructure repository whose main holds one merge per entry,
// oldest first: "<version> <outcome>" (outcome verified, failed, not-applied or
// pending), with "rollback" as a third word for a rollback's merge.
func history(t *testing.T, entries ...string) *infrarepo.Repo {
	t.Helper()
	bare, work := infraWork(t)
	for i, e := range entries {
		f := strings.Fields(e)
		id := fmt.Sprintf("scale-%010d", i)
		if len(f) == 3 {
			id += "-rollback"
		}
		gittest.Run(t, work, "checkout", "-q", "-b", "b"+fmt.Sprint(i), "main")
		gittest.WriteFile(t, filepath.Join(work, "f"+fmt.Sprint(i)), e)
		gittest.Run(t, work, "add", "-A")
		gittest.Run(t, work, "commit", "-qm", "change "+e)
		gittest.Run(t, work, "checkout", "-q", "main")
		gittest.Run(t, work, "merge", "-q", "--no-ff", "-m",
			fmt.Sprintf("Merge remediation %s\n\nRemediation-Id: %s\nRunbook: scale\nRunbook-Version: %s\n", id, id, f[0]), "b"+fmt.Sprint(i))
		if f[1] != "pending" {
			gittest.Run(t, work, "notes", "--ref=remediation", "add", "-m", "outcome: "+f[1], "HEAD")
		}
	}
	gittest.Run(t, work, "push", "-q", "origin", "main", "refs/notes/remediation")
	repo, err := infrarepo.Open(context.Background(), bare, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	return repo
}

// Autonomy is earned per runbook version: two verified runs of version A let A
// auto-merge; version B starts from nothing; one failure starts the count over; a
// change never applied and a rollback's outcome are no evidence either way.
func TestAutonomyIsEarnedPerVersion(t *testing.T) {
	repo := history(t,
		"A verified", "A not-applied", "A verified", "A failed rollback",
		"B verified", "B failed", "B verified", "B pending")
	am := runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 2}
	for _, tc := range []struct {
		version                  string
		streak, verified, failed int
		earned                   bool
		why                      string
	}{
		{"A", 2, 2, 0, true, ""},
		{"B", 1, 2, 1, false, "runbook scale version B has 1 verified run(s) in a row, auto-merge needs 2 (counted since its failure merged at "},
		{"C", 0, 0, 0, false, "version C has 0 verified run(s) in a row"},
	} {
		rec, err := lifecycle.RecordOf(repo, "main", "scale", tc.version)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Streak != tc.streak || rec.Verified != tc.verified || rec.Failed != tc.failed {
			t.Errorf("%s: record %+v", tc.version, rec)
		}
		ok, why := rec.Earned(am)
		if ok != tc.earned || !strings.Contains(why, tc.why) {
			t.Errorf("%s: earned %v (%s), want %v (%s)", tc.version, ok, why, tc.earned, tc.why)
		}
	}
	// One walk for every version reads the same records as a walk per version.
	all, err := lifecycle.AllRecords(repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"A", "B", "C"} {
		one, err := lifecycle.RecordOf(repo, "main", "scale", v)
		if err != nil || all.Of("scale", v) != one {
			t.Errorf("%s: all %+v, one %+v (%v)", v, all.Of("scale", v), one, err)
		}
	}
	rec, _ := lifecycle.RecordOf(repo, "main", "scale", "A")
	if rec.NotApplied != 1 {
		t.Errorf("not-applied of A: %d", rec.NotApplied)
	}
	if rec, _ := lifecycle.RecordOf(repo, "main", "scale", "B"); rec.Pending != 1 {
		t.Errorf("pending of B: %d", rec.Pending)
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
		got := lifecycle.Record{Verified: tc.verified, Failed: tc.failed}.SuccessLowerBound()
		if math.Abs(got-tc.want) > 0.0005 {
			t.Errorf("%d/%d: %.4f, want %.4f", tc.verified, tc.failed, got, tc.want)
		}
	}
	rec := lifecycle.Record{Runbook: "scale", Version: "A", Verified: 10, Streak: 10}
	if ok, why := rec.Earned(runbooks.AutoMerge{MinVerifiedRuns: 2, MinSuccessRate: 0.8}); ok || !strings.Contains(why, "at least 0.72 at 95% confidence; auto-merge needs 0.80") {
		t.Errorf("10 of 10 against 0.8: %v %s", ok, why)
	}
	rec.Verified, rec.Streak = 50, 50
	if ok, why := rec.Earned(runbooks.AutoMerge{MinVerifiedRuns: 2, MinSuccessRate: 0.8}); !ok {
		t.Errorf("50 of 50 against 0.8: %s", why)
	}
}
