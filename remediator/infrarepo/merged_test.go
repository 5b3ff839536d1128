package infrarepo_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// commitAt commits a file in work with both dates set to date (a claim anyone can make).
func commitAt(t *testing.T, work, file, date string) string {
	t.Helper()
	gittest.WriteFile(t, filepath.Join(work, file), file+" "+date+"\n")
	gittest.Run(t, work, "add", "-A")
	t.Setenv("GIT_AUTHOR_DATE", date)
	t.Setenv("GIT_COMMITTER_DATE", date)
	gittest.Run(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", file)
	_ = os.Unsetenv("GIT_AUTHOR_DATE")
	_ = os.Unsetenv("GIT_COMMITTER_DATE")
	return gittest.Run(t, work, "rev-parse", "HEAD")
}

// The rule "dates are claims" for "already merged": whatever dates the proposal's
// commit and the base's commits carry, the graph decides.
func TestRuleIsMergedByGraphNotDates(t *testing.T) {
	const now, past, future = "2026-12-07T10:00:00Z", "2001-01-01T00:00:00Z", "2099-01-01T00:00:00Z"
	cases := []struct {
		name string
		// build returns the proposal's head and whether it is merged.
		build func(t *testing.T, work string) (string, bool)
	}{
		{"merged, then a back-dated commit on the base", func(t *testing.T, work string) (string, bool) {
			gittest.Run(t, work, "checkout", "-q", "-b", "p")
			head := commitAt(t, work, "p", now)
			gittest.Run(t, work, "checkout", "-q", "main")
			gittest.Run(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "merge", "-q", "--no-ff", "-m", "merge", "p")
			commitAt(t, work, "old", past)
			return head, true
		}},
		{"a future-dated head, merged", func(t *testing.T, work string) (string, bool) {
			gittest.Run(t, work, "checkout", "-q", "-b", "p")
			head := commitAt(t, work, "p", future)
			gittest.Run(t, work, "checkout", "-q", "main")
			commitAt(t, work, "base", now)
			gittest.Run(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "merge", "-q", "--no-ff", "-m", "merge", "p")
			return head, true
		}},
		{"a back-dated head, not merged", func(t *testing.T, work string) (string, bool) {
			gittest.Run(t, work, "checkout", "-q", "-b", "p")
			head := commitAt(t, work, "p", past)
			gittest.Run(t, work, "checkout", "-q", "main")
			for _, f := range []string{"a", "b", "c"} {
				commitAt(t, work, f, now)
			}
			return head, false
		}},
		{"merged through a side branch forked long before", func(t *testing.T, work string) (string, bool) {
			gittest.Run(t, work, "checkout", "-q", "-b", "side")
			commitAt(t, work, "s", past)
			gittest.Run(t, work, "checkout", "-q", "main")
			for _, f := range []string{"a", "b", "c", "d"} {
				commitAt(t, work, f, now)
			}
			gittest.Run(t, work, "checkout", "-q", "-b", "p")
			head := commitAt(t, work, "p", now)
			gittest.Run(t, work, "checkout", "-q", "side")
			gittest.Run(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "merge", "-q", "--no-ff", "-m", "into side", "p")
			gittest.Run(t, work, "checkout", "-q", "main")
			gittest.Run(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "merge", "-q", "--no-ff", "-m", "side", "side")
			return head, true
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bare := gittest.BareRepo(t)
			work := t.TempDir()
			gittest.Run(t, "", "clone", "-q", bare, work)
			gittest.Run(t, work, "checkout", "-q", "-b", "main")
			for _, f := range []string{"1", "2", "3"} {
				commitAt(t, work, f, now)
			}
			head, want := tc.build(t, work)
			gittest.Run(t, work, "push", "-q", "origin", "main", head+":refs/heads/remediation/p")
			repo, err := infrarepo.Open(context.Background(), bare, "", t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = repo.Close() }()
			got, err := repo.IsMerged(plumbing.NewHash(head), "main")
			if err != nil || got != want {
				t.Fatalf("IsMerged = %v, %v; want %v:\n%s", got, err, want, gittest.Run(t, work, "log", "--graph", "--format=%h %cI %s", "--all"))
			}
		})
	}
}
