package gitlab_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/gitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// seen is what one pass read of each open merge request, by number.
type seen struct {
	open    []int
	counted map[int][]string // approvers counted for the head
	blocked map[int][]string // standing requests for changes
	pushers map[int][]string
	closers map[int][]string // who closed it, from its state events
}

// pass reads what a reconcile pass reads of the open merge requests: the list,
// then each one's state events, reviews and pushers. It returns what it read and
// how many requests GitLab counted for it.
func (w *world) pass() (seen, int) {
	w.t.Helper()
	ctx := context.Background()
	before := w.s.Requests()
	props, err := w.f.OpenProposals(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	out := seen{counted: map[int][]string{}, blocked: map[int][]string{}, pushers: map[int][]string{}, closers: map[int][]string{}}
	for _, p := range props {
		out.open = append(out.open, p.Number)
		events, err := w.f.Timeline(ctx, p.Number)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, e := range events {
			if e.Kind == forge.EventClosed {
				out.closers[p.Number] = append(out.closers[p.Number], e.Actor)
			}
		}
		reviews, err := w.f.Reviews(ctx, p.Number)
		if err != nil {
			w.t.Fatal(err)
		}
		pushers, err := w.f.Pushers(ctx, p.Number)
		if err != nil {
			w.t.Fatal(err)
		}
		c := records.CountReviews(reviews, p.Head, append([]string{p.Author}, pushers...))
		out.counted[p.Number], out.blocked[p.Number], out.pushers[p.Number] = c.Approvers, c.Blockers, pushers
	}
	slices.Sort(out.open)
	return out, w.s.Requests() - before
}

// TestAQuietPassAsksGitLabOnce: GitLab counts every request, 304s too, so the forge
// does not ask again what cannot have changed: after the first pass, a pass over
// open merge requests nobody touched costs the one request that asks GitLab which
// changed; each change (an approval, its withdrawal, a request for changes, a push,
// a close, a reopen, a new merge request) is seen by the next pass, which reads again
// only the merge request it touched. A merge request whose approvals name its head
// is read whole on every pass.
func TestAQuietPassAsksGitLabOnce(t *testing.T) {
	w := newWorld(t)
	a, b, c := w.open("a1"), w.open("b1"), w.open("c1")
	first, cost := w.pass()
	if !slices.Equal(first.open, []int{1, 2, 3}) || cost < 3*4 {
		t.Fatalf("first pass: open %v at %d requests", first.open, cost)
	}
	if _, cost := w.pass(); cost != 1 {
		t.Errorf("quiet pass: %d requests, want 1", cost)
	}
	// A change to one merge request: the next pass reads that one again only.
	w.s.RequestChanges(project, int64(b.Number), "carol")
	got, cost := w.pass()
	if !slices.Equal(got.blocked[b.Number], []string{"carol"}) {
		t.Errorf("request for changes not seen: %v", got.blocked)
	}
	if cost < 2 || cost > 1+8 {
		t.Errorf("pass after one change: %d requests, want the list and the one merge request's reads", cost)
	}
	if _, cost := w.pass(); cost != 1 {
		t.Errorf("quiet pass after it: %d requests, want 1", cost)
	}
	w.push("mallory", "remediation/c1", "more.tfvars")
	if got, _ := w.pass(); !slices.Contains(got.pushers[c.Number], "mallory") {
		t.Errorf("a push by mallory not seen: pushers %v", got.pushers[c.Number])
	}
	// An approval of the head: seen, and from then on that merge request is read
	// whole on every pass, quiet or not.
	w.approve(a, "alice")
	if got, _ := w.pass(); !slices.Equal(got.counted[a.Number], []string{"alice"}) {
		t.Errorf("approval not seen: %v", got.counted)
	}
	if _, cost := w.pass(); cost < 1+4 {
		t.Errorf("quiet pass with an approved merge request: %d requests, want it read whole", cost)
	}
	w.s.Unapprove(project, int64(a.Number), "alice")
	if got, _ := w.pass(); len(got.counted[a.Number]) != 0 {
		t.Errorf("withdrawn approval still counted: %v", got.counted[a.Number])
	}
	// Closed by a person, reopened: both seen; a new merge request joins the list.
	w.s.CloseAs(project, int64(c.Number), "carol")
	if got, _ := w.pass(); slices.Contains(got.open, c.Number) {
		t.Errorf("closed merge request still open: %v", got.open)
	}
	w.s.Reopen(project, int64(c.Number), "carol")
	d := w.open("d1")
	got, _ = w.pass()
	if !slices.Equal(got.open, []int{a.Number, b.Number, c.Number, d.Number}) || !slices.Equal(got.closers[c.Number], []string{"carol"}) {
		t.Errorf("after reopen and a new one: open %v, closers %v", got.open, got.closers)
	}
}

// TestTheMergeAsksForRequestsForChangesAgain: what the forge keeps never stands in
// for GitLab's word on a merge. A request for changes made after the pass read the
// reviews stops the merge, even where the project needs no approval, and the next
// pass sees it.
func TestTheMergeAsksForRequestsForChangesAgain(t *testing.T) {
	w := newWorld(t)
	w.s.Configure(project, fakegitlab.Settings{ApprovalsRequired: 0})
	p := w.open("a1")
	if got, _ := w.pass(); len(got.blocked[p.Number]) != 0 {
		t.Fatalf("blocked before anyone asked: %v", got.blocked)
	}
	w.s.RequestChanges(project, int64(p.Number), "carol")
	_, err := w.f.Merge(context.Background(), p.Number, p.Head, "merge", "trailers")
	if !errors.Is(err, forge.ErrNotMergeable) {
		t.Fatalf("merge after a request for changes: %v, want ErrNotMergeable", err)
	}
	if w.s.MergeRequests(project)[0].State != "opened" {
		t.Fatal("merged despite the request for changes")
	}
	if got, _ := w.pass(); !slices.Equal(got.blocked[p.Number], []string{"carol"}) {
		t.Errorf("next pass: blocked %v, want carol", got.blocked)
	}
}

// recorder keeps the query of every request to list merge requests.
type recorder struct {
	mu      sync.Mutex
	queries []url.Values
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/merge_requests") && req.Method == http.MethodGet {
		r.mu.Lock()
		r.queries = append(r.queries, req.URL.Query())
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestAPassWithNothingOpenAsksForTheOpenList: with no merge request open yet, a pass
// asks for the open ones (one request), never for every merge request the
// remediator ever opened in any state.
func TestAPassWithNothingOpenAsksForTheOpenList(t *testing.T) {
	w := newWorld(t)
	for _, id := range []string{"a1", "b1", "c1"} {
		p := w.open(id)
		w.s.CloseAs(project, int64(p.Number), "remediator")
	}
	rec := &recorder{}
	f, err := gitlab.New(gitlab.Options{BaseURL: w.s.URL, Project: project, Token: "rtoken", Transport: rec})
	if err != nil {
		t.Fatal(err)
	}
	w.f = f
	for range 3 {
		if got, _ := w.pass(); len(got.open) != 0 {
			t.Fatalf("pass with none open: open %v", got.open)
		}
	}
	for _, q := range rec.queries {
		if q.Get("state") != "opened" {
			t.Errorf("with none open a pass asked for %v, want the open merge requests", q)
		}
	}
	p := w.open("d1")
	if got, _ := w.pass(); !slices.Equal(got.open, []int{p.Number}) {
		t.Fatalf("a merge request opened later: open %v", got.open)
	}
}
