package records_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Autonomy is earned: a streak of verified runs at least the policy's minimum, and
// (when asked) a success rate whose 95% lower bound reaches the minimum.
func TestRuleAutonomyIsEarnedByStreakAndRate(t *testing.T) {
	failed := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	unaccounted := failed.Add(time.Hour)
	for _, tc := range []struct {
		name string
		r    records.Record
		am   runbooks.AutoMerge
		ok   bool
		why  string
	}{
		{"streak exactly the minimum", records.Record{Verified: 3, Streak: 3}, runbooks.AutoMerge{MinVerifiedRuns: 3}, true, ""},
		{"streak one short", records.Record{Verified: 2, Streak: 2}, runbooks.AutoMerge{MinVerifiedRuns: 3}, false, "has 2 verified run(s) in a row, auto-merge needs 3"},
		{"short since a failure", records.Record{Verified: 5, Failed: 1, Streak: 1, LastFailure: failed}, runbooks.AutoMerge{MinVerifiedRuns: 3}, false,
			"counted since its failure merged at 2026-05-01T00:00:00Z"},
		{"short since an unaccounted merge", records.Record{Verified: 5, Failed: 1, Streak: 0, LastFailure: failed, LastUnaccounted: unaccounted, Unaccounted: 1},
			runbooks.AutoMerge{MinVerifiedRuns: 3}, false, "counted since a merge at 2026-05-01T01:00:00Z whose outcome the remediator cannot vouch for"},
		{"failure after the unaccounted merge", records.Record{Verified: 5, Failed: 1, LastFailure: unaccounted, LastUnaccounted: failed, Unaccounted: 1},
			runbooks.AutoMerge{MinVerifiedRuns: 3}, false, "counted since its failure merged at 2026-05-01T01:00:00Z"},
		{"rate below the minimum", records.Record{Verified: 9, Failed: 1, Streak: 5}, runbooks.AutoMerge{MinVerifiedRuns: 3, MinSuccessRate: 0.9}, false,
			"9 verified and 1 failed, a success rate of at least 0.60 at 95% confidence; auto-merge needs 0.90"},
		{"rate reached", records.Record{Verified: 100, Streak: 100}, runbooks.AutoMerge{MinVerifiedRuns: 3, MinSuccessRate: 0.9}, true, ""},
		// The minimum is inclusive: a bound exactly at it earns.
		{"rate exactly the minimum", records.Record{Verified: 9, Failed: 1, Streak: 5},
			runbooks.AutoMerge{MinVerifiedRuns: 3, MinSuccessRate: records.Record{Verified: 9, Failed: 1}.SuccessLowerBound()}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.Runbook, tc.r.Version = "scale-web", "v1"
			ok, why := tc.r.Earned(tc.am)
			if ok != tc.ok || !strings.Contains(why, tc.why) || (tc.ok && why != "") {
				t.Fatalf("Earned = %v %q, want %v %q", ok, why, tc.ok, tc.why)
			}
			if !ok && strings.Contains(tc.why, "in a row") && (strings.Contains(why, "(counted since") != strings.Contains(tc.why, "(counted since")) {
				t.Fatalf("Earned reason %q", why)
			}
		})
	}
}

// The success rate's lower bound is the Wilson score interval's (95%), not the
// observed rate: few runs earn little.
func TestRuleSuccessRateIsTheWilsonLowerBound(t *testing.T) {
	for _, tc := range []struct {
		verified, failed int
		want             float64
	}{
		{0, 0, 0},
		{1, 0, 0.2065},
		{9, 1, 0.5958},
		{10, 0, 0.7225},
		{0, 5, 0},
		{50, 50, 0.4038},
	} {
		got := records.Record{Verified: tc.verified, Failed: tc.failed}.SuccessLowerBound()
		if math.Abs(got-tc.want) > 0.0005 {
			t.Errorf("%d verified, %d failed: lower bound %.4f, want %.4f", tc.verified, tc.failed, got, tc.want)
		}
	}
}

// A record that cannot be read earns nothing: AutonomyOf says why (the base it
// could not walk) instead of judging an empty record.
func TestRuleAutonomyOfAnUnreadableRecordIsAnError(t *testing.T) {
	repo, key := history(t, "A verified", "A verified")
	rb := runbooks.NewRunbook("scale")
	rb.Spec.Risk = runbooks.RiskLow
	pol := runbooks.NewPolicy("prod")
	pol.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 0}
	h := records.History{Repo: repo, Base: "no-such-branch", Remediator: key.Public(), Now: time.Now()}
	a, err := h.AutonomyOf(rb, pol)
	if err == nil || a.MayAutoMerge {
		t.Fatalf("autonomy read from a base that is not there: %+v, %v", a, err)
	}
	h.Base = "main"
	if _, err := h.AutonomyOf(rb, pol); err != nil {
		t.Fatalf("from main: %v", err)
	}
}
