package github_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
)

// look is what a reconcile pass reads of one waiting pull request.
func (e *env) look(t *testing.T, number int) []forge.Review {
	t.Helper()
	ctx := context.Background()
	if _, err := e.forge.OpenProposals(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.forge.Pushers(ctx, number); err != nil {
		t.Fatal(err)
	}
	reviews, err := e.forge.Reviews(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	return reviews
}

// A pass over an unchanged pull request costs no counted request (304s only); a
// review submitted since is seen by the next pass, and so is a status: what the
// forge keeps never hides a change.
func TestQuietPassIsFreeAndChangesAreSeen(t *testing.T) {
	// The status below is posted with the remediator's own token: its login is the reporter.
	e := newEnv(t, func(o *github.Options) { o.Reporters = []string{"remediator-bot"} })
	ctx := context.Background()
	r := request("scale-api-7777777777", "high")
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", e.dir, work)
	gittest.Run(t, work, "checkout", "-q", "-b", r.Branch)
	gittest.WriteFile(t, work+"/x.txt", "x\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-q", "-m", "change")
	gittest.Run(t, work, "push", "-q", "origin", r.Branch)
	p, err := e.forge.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	e.look(t, p.Number)
	time.Sleep(1100 * time.Millisecond) // GitHub stamps updated_at to the second
	e.look(t, p.Number)

	counted, revalidated := e.srv.Counted(), e.srv.NotModified()
	if reviews := e.look(t, p.Number); len(reviews) != 0 {
		t.Fatalf("reviews %v", reviews)
	}
	if got := e.srv.Counted() - counted; got != 0 {
		t.Fatalf("a quiet pass cost %d counted requests, want 0", got)
	}
	if e.srv.NotModified() == revalidated {
		t.Fatal("the quiet pass asked nothing: the open list must be revalidated (304)")
	}

	e.srv.Review("acme", "infra", p.Number, "alice", "APPROVED", p.Head, time.Now())
	reviews := e.look(t, p.Number)
	if len(reviews) != 1 || reviews[0].State != "APPROVED" || reviews[0].Login != "alice" {
		t.Fatalf("the pass after the 304 did not see the approval: %v", reviews)
	}
	// An approval of the head is read again on every pass: a dismissal is never hidden.
	counted = e.srv.Counted()
	e.look(t, p.Number)
	if got := e.srv.Counted() - counted; got != 1 {
		t.Fatalf("a pass over an approved head read %d counted requests, want 1 (its reviews)", got)
	}

	checks, err := e.forge.Checks(ctx, p.Head)
	if err != nil || len(checks) != 0 {
		t.Fatalf("checks %v %v", checks, err)
	}
	e.post(t, "/repos/acme/infra/statuses/"+p.Head, `{"state":"success","context":"plan"}`, 201)
	checks, err = e.forge.Checks(ctx, p.Head)
	if err != nil || checks["plan"] != forge.CheckSuccess {
		t.Fatalf("the status set since was not seen: %v %v", checks, err)
	}
}

// Lookup and the limits' counts come from the remediator's pull requests read once,
// then only those updated since: a lookup of a closed proposal's branch finds it,
// and the list is asked again only conditionally.
func TestLookupServedFromTheLists(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := request("scale-api-8888888888", "high")
	e.branch(t, r.Branch)
	p, err := e.forge.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if got, found, err := e.forge.Lookup(ctx, r.Branch); err != nil || !found || got.Number != p.Number || got.State != forge.Open {
		t.Fatalf("lookup of the open proposal: %+v %v %v", got, found, err)
	}
	e.srv.Close("acme", "infra", p.Number, time.Now())
	got, found, err := e.forge.Lookup(ctx, r.Branch)
	if err != nil || !found || got.State != forge.Closed || got.Closed.IsZero() {
		t.Fatalf("lookup of the closed proposal: %+v %v %v", got, found, err)
	}
	if _, found, _ := e.forge.Lookup(ctx, "remediation/never-proposed"); found {
		t.Fatal("found a proposal for a branch never proposed")
	}
	counted := e.srv.Counted()
	props, err := e.forge.Proposals(ctx, time.Now().Add(-time.Hour))
	if err != nil || len(props) != 1 || props[0].State != forge.Closed {
		t.Fatalf("proposals of the last hour: %+v %v", props, err)
	}
	if got := e.srv.Counted() - counted; got != 0 {
		t.Fatalf("counting the limits again cost %d counted requests, want 0", got)
	}
}

// The limits are counted, and a branch looked up, from the remediator's pull
// requests brought up to date by one conditional request: with more open than one
// page holds, that is one counted request after a change, not a page per hundred.
// A proposal another process (another replica) opened since this one last read is
// counted, and one it closed is seen closed: nothing kept hides a change.
func TestLimitsCountWhatAnotherProcessOpened(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const open = 101 // more than one page of 100
	for i := range open {
		if i == open-1 {
			// updated_at is to the second and the read stops at the first pull request
			// older than the newest it read: however many the machine opens in one
			// second, the last one is a second later.
			time.Sleep(1100 * time.Millisecond)
		}
		r := request(fmt.Sprintf("scale-api-%010d", i), "low")
		e.branch(t, r.Branch)
		if _, err := e.forge.Open(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Now().Add(-time.Hour)
	if props, err := e.forge.Proposals(ctx, since); err != nil || len(props) != open {
		t.Fatalf("%d proposals, want %d: %v", len(props), open, err)
	}
	other, err := github.New(github.Options{Owner: "acme", Repository: "infra", BaseURL: e.srv.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	r := request("scale-api-elsewhere0", "low")
	e.branch(t, r.Branch)
	theirs, err := other.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	counted := e.srv.Counted()
	props, err := e.forge.Proposals(ctx, since)
	if err != nil || len(props) != open+1 {
		t.Fatalf("after another process opened one: %d proposals, want %d: %v", len(props), open+1, err)
	}
	if got := e.srv.Counted() - counted; got != 1 {
		t.Fatalf("counting the limits after a change cost %d counted requests, want 1", got)
	}
	// What opening a proposal asks before it opens: the lookup of its new branch.
	if _, found, err := e.forge.Lookup(ctx, "remediation/scale-api-never00000"); err != nil || found {
		t.Fatalf("lookup of a branch never proposed: %v %v", found, err)
	}
	if got := e.srv.Counted() - counted; got != 1 {
		t.Fatalf("the lookup after it cost %d more counted requests, want 0 (a 304)", got-1)
	}
	if p, found, err := e.forge.Lookup(ctx, r.Branch); err != nil || !found || p.Number != theirs.Number || p.State != forge.Open {
		t.Fatalf("lookup of the other process's proposal: %+v %v %v", p, found, err)
	}
	if err := other.Close(ctx, theirs, "resolved"); err != nil {
		t.Fatal(err)
	}
	if p, found, err := e.forge.Lookup(ctx, r.Branch); err != nil || !found || p.State != forge.Closed {
		t.Fatalf("lookup after the other process closed it: %+v %v %v", p, found, err)
	}
	props, err = e.forge.Proposals(ctx, since)
	n := 0
	for _, p := range props {
		if p.State == forge.Open {
			n++
		}
	}
	if err != nil || n != open {
		t.Fatalf("after the other process closed its proposal: %d open, want %d: %v", n, open, err)
	}
}
