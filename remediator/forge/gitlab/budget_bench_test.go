package gitlab_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/gitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// benchEnv is a GitLab test server holding n of the remediator's open merge
// requests, each one commit on its own branch, on a project that needs one
// approval; its clock moves a second at each reading, so the merge requests are
// spread over minutes of GitLab's time as they would be.
type benchEnv struct {
	srv  *fakegitlab.Server
	dir  string
	next int

	mu    sync.Mutex
	clock time.Time
}

func newBenchEnv(b *testing.B, n int) *benchEnv {
	b.Helper()
	e := &benchEnv{srv: fakegitlab.New(b), clock: time.Now().Add(-24 * time.Hour)}
	e.srv.SetClock(e.tick)
	e.srv.AddUser("remediator", "rtoken")
	e.srv.AddUser("alice", "alice-token")
	e.srv.AddUser("ci", "ci-token")
	e.dir = e.srv.CreateProject(project, map[string]string{"main.tf": "# infra\n"})
	e.srv.SetMember(project, "remediator", fakegitlab.Maintainer)
	e.srv.SetMember(project, "alice", fakegitlab.Developer)
	e.srv.SetMember(project, "ci", fakegitlab.Developer)
	e.srv.Configure(project, fakegitlab.Settings{ApprovalsRequired: 1})
	f := e.forge(b)
	for range n {
		e.open(b, f)
	}
	return e
}

func (e *benchEnv) tick() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock = e.clock.Add(time.Second)
	return e.clock
}

func (e *benchEnv) forge(b *testing.B) *gitlab.Forge {
	b.Helper()
	f, err := gitlab.New(gitlab.Options{BaseURL: e.srv.URL, Project: project, Token: "rtoken", Reporters: []string{"ci"}})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// open pushes a proposal branch and opens its merge request as the proposer does:
// the lookup, the limits' count, then the merge request.
func (e *benchEnv) open(b *testing.B, f *gitlab.Forge) forge.Proposal {
	b.Helper()
	ctx := context.Background()
	e.next++
	r := request(fmt.Sprintf("scale-api-%06d", e.next))
	r.Reviewers = nil
	tree := gittest.Run(b, e.dir, "rev-parse", "main^{tree}")
	commit := gittest.Run(b, e.dir, "commit-tree", tree, "-p", "main", "-m", "remediation "+r.Artifact.ID)
	e.srv.Push(project, "remediator", r.Branch, commit)
	if _, _, err := f.Lookup(ctx, r.Branch); err != nil {
		b.Fatal(err)
	}
	if _, err := f.Proposals(ctx, time.Now().Add(-time.Hour)); err != nil {
		b.Fatal(err)
	}
	p, err := f.Open(ctx, r)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// pass reads what a reconcile pass reads: the open merge requests, then each one's
// state events, reviews and pushers; one approved on its head has its checks read
// and is merged. It returns the merged merge requests.
func pass(b *testing.B, f *gitlab.Forge) []forge.Proposal {
	b.Helper()
	ctx := context.Background()
	props, err := f.OpenProposals(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var merged []forge.Proposal
	for _, p := range props {
		if _, err := f.Timeline(ctx, p.Number); err != nil {
			b.Fatal(err)
		}
		reviews, err := f.Reviews(ctx, p.Number)
		if err != nil {
			b.Fatal(err)
		}
		pushers, err := f.Pushers(ctx, p.Number)
		if err != nil {
			b.Fatal(err)
		}
		if len(records.CountReviews(reviews, p.Head, append([]string{p.Author}, pushers...)).Approvers) == 0 {
			continue
		}
		if _, err := f.Checks(ctx, p.Head); err != nil {
			b.Fatal(err)
		}
		if _, err := f.Merge(ctx, p.Number, p.Head, "merge", "trailers"); err != nil {
			b.Fatal(err)
		}
		merged = append(merged, p)
	}
	return merged
}

// counted runs step b.N times and reports the requests GitLab's rate limit counts
// (every request, 304s too) in the part of each run step measures.
func (e *benchEnv) counted(b *testing.B, step func(i int, measure func(func()))) {
	b.Helper()
	counted := 0
	measure := func(f func()) {
		c := e.srv.Requests()
		b.StartTimer()
		f()
		b.StopTimer()
		counted += e.srv.Requests() - c
	}
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		step(i, measure)
	}
	b.ReportMetric(float64(counted)/float64(b.N), "counted/op")
}

// BenchmarkGitLabForgeBudget: the requests GitLab counts per pass with N open
// merge requests, against a naive peer measured on the same server in the same run:
// the same forge keeping nothing between passes, as it did before (the list, and
// each merge request's state events, merge request, versions, approvals, reviewers
// and push events, every pass).
func BenchmarkGitLabForgeBudget(b *testing.B) {
	for _, n := range []int{10, 50, 200} {
		b.Run(fmt.Sprintf("open=%d", n), func(b *testing.B) { benchGitLabBudget(b, n) })
	}
}

func benchGitLabBudget(b *testing.B, n int) {
	e := newBenchEnv(b, n)
	naive, f := e.forge(b), e.forge(b)
	gitlab.WithoutMemory(naive)
	pass(b, f)
	b.Run("peer=naive-quiet-pass", func(b *testing.B) {
		e.counted(b, func(_ int, measure func(func())) { measure(func() { pass(b, naive) }) })
	})
	b.Run("quiet-pass", func(b *testing.B) {
		e.counted(b, func(_ int, measure func(func())) { measure(func() { pass(b, f) }) })
	})
	b.Run("pass-after-proposal-opened", func(b *testing.B) {
		e.counted(b, func(_ int, measure func(func())) {
			e.open(b, f)
			measure(func() { pass(b, f) })
		})
	})
	b.Run("pass-after-one-request-for-changes", func(b *testing.B) {
		e.counted(b, func(i int, measure func(func())) {
			e.srv.RequestChanges(project, int64(1+i%n), "alice")
			measure(func() { pass(b, f) })
		})
	})
	b.Run("merge", func(b *testing.B) {
		// One merge request approved: the pass reads it whole, its checks, and
		// merges it; another is opened after, outside what is measured.
		e.counted(b, func(_ int, measure func(func())) {
			props, err := f.OpenProposals(context.Background())
			if err != nil || len(props) == 0 {
				b.Fatal(err)
			}
			p := props[len(props)-1]
			if err := e.srv.Approve(project, int64(p.Number), "alice"); err != nil {
				b.Fatal(err)
			}
			measure(func() {
				if merged := pass(b, f); len(merged) != 1 {
					b.Fatalf("merged %d, want 1", len(merged))
				}
			})
			e.open(b, f)
			pass(b, f)
		})
	})
}
