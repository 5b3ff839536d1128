package gitlab_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/gitlab"
)

// TestAFastForwardOnlyProjectIsRefusedBeforeAnyMerge: on a project that merges by
// fast-forward only, the remediator's merge commit with its trailers cannot exist.
// The first pass says so, naming the project's setting, and a merge is refused
// before GitLab is asked to merge: the base never moves.
func TestAFastForwardOnlyProjectIsRefusedBeforeAnyMerge(t *testing.T) {
	w := newWorld(t)
	p := w.open("a1")
	w.approve(p, "alice")
	w.s.Configure(project, fakegitlab.Settings{ApprovalsRequired: 1, MergeMethod: "ff"})
	base := gittest.Run(t, w.dir, "rev-parse", "main")
	_, err := w.f.Merge(context.Background(), p.Number, p.Head, "merge", "trailers")
	if !errors.Is(err, forge.ErrNotMergeable) || !strings.Contains(err.Error(), `merge_method "ff"`) {
		t.Fatalf("merge on a fast-forward-only project: %v, want ErrNotMergeable naming merge_method", err)
	}
	if now := gittest.Run(t, w.dir, "rev-parse", "main"); now != base || w.s.MergeRequests(project)[0].State != "opened" {
		t.Fatalf("merged anyway: main %s (was %s), state %s", now, base, w.s.MergeRequests(project)[0].State)
	}
	// A forge that starts on such a project refuses its first pass, saying why.
	fresh, err := gitlab.New(gitlab.Options{BaseURL: w.s.URL, Project: project, Token: "rtoken"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.OpenProposals(context.Background()); err == nil || !strings.Contains(err.Error(), "fast-forward only") || !strings.Contains(err.Error(), project) {
		t.Fatalf("first pass on a fast-forward-only project: %v", err)
	}
	// Set back to merge commits, the merge goes through with one.
	w.s.Configure(project, fakegitlab.Settings{ApprovalsRequired: 1, MergeMethod: "merge"})
	if sha, err := w.f.Merge(context.Background(), p.Number, p.Head, "merge", "trailers"); err != nil || sha == "" || sha == p.Head {
		t.Fatalf("merge with merge commits: %q, %v", sha, err)
	}
}
