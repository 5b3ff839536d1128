package infrarepo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// The rule "dates are claims" for a revert's suspects: a commit's date decides
// whether it is a suspect, but the walk down the base's first-parent line follows
// the graph, so a back-dated (or future-dated) commit pushed on top hides nothing
// below it.
func TestRulePlanRevertWalksTheGraphNotDates(t *testing.T) {
	const culprit, past, future = "2026-12-07T09:30:00Z", "2001-01-01T00:00:00Z", "2099-01-01T00:00:00Z"
	until := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		above []string // dates of the commits pushed on top of the culprit
	}{
		{"nothing above", nil},
		{"a back-dated commit above", []string{past}},
		{"back-dated and future-dated commits above", []string{future, past, past}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bare := gittest.BareRepo(t)
			work := t.TempDir()
			gittest.Run(t, "", "clone", "-q", bare, work)
			gittest.Run(t, work, "checkout", "-q", "-b", "main")
			commitAt(t, work, "svc/api.tf", "2026-12-07T08:00:00Z")
			want := commitAt(t, work, "svc/api.tf", culprit)
			for i, d := range tc.above {
				commitAt(t, work, "docs/note"+string(rune('a'+i)), d)
			}
			gittest.Run(t, work, "push", "-q", "origin", "main")
			repo, err := infrarepo.Open(context.Background(), bare, "", t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = repo.Close() }()
			rv, err := repo.PlanRevert("main", infrarepo.Suspects{From: until.Add(-time.Hour), Until: until},
				func(p string) bool { return strings.HasPrefix(p, "svc/") })
			if err != nil {
				t.Fatal(err)
			}
			if rv == nil || rv.Commit.Hash.String() != want {
				t.Fatalf("PlanRevert chose %v, want the culprit %s:\n%s", rv, want[:12], gittest.Run(t, work, "log", "--format=%h %cI %s"))
			}
		})
	}
}
