package github_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

func TestRecurCountsAndRewritesBodyOnlyWhenChanged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := request("scale-api-2222222222", "medium")
	e.branch(t, r.Branch)
	if _, err := e.forge.Open(ctx, r); err != nil {
		t.Fatal(err)
	}
	const edits = "/repos/{owner}/{repo}/pulls/{pull_number}"
	for i := 1; i <= 3; i++ {
		p, found, err := e.forge.Lookup(ctx, r.Branch)
		if err != nil || !found {
			t.Fatal(found, err)
		}
		r.Seen, r.Value = r.Seen.Add(time.Minute), float64(i)
		n, err := e.forge.Recur(ctx, p, r)
		if err != nil || n != i {
			t.Fatalf("recurrence %d: count %d, %v", i, n, err)
		}
	}
	if got := e.srv.Requests(http.MethodPatch, edits); got != 0 {
		t.Errorf("the body was rewritten %d times though it never changed", got)
	}
	pr := e.srv.PullRequests("acme", "infra")[0]
	if len(pr.Comments) != 1 || !strings.Contains(pr.Comments[0], "**3** time(s), last at `2026-11-25T04:04:00Z` (value `3`)") {
		t.Fatalf("one comment counting 3 recurrences expected, got %q", pr.Comments)
	}

	// A new runbook version changes the description: rewritten once.
	r.Artifact.RunbookVersion = "ba9876543210"
	p, _, _ := e.forge.Lookup(ctx, r.Branch)
	if _, err := e.forge.Recur(ctx, p, r); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Requests(http.MethodPatch, edits); got != 1 {
		t.Errorf("body rewritten %d times, want 1", got)
	}
	if pr := e.srv.PullRequests("acme", "infra")[0]; !strings.Contains(pr.Body, "ba9876543210") {
		t.Error("the new version is not in the body")
	}
}

func TestRecurRestoresLabelsRemovedOrNeverAdded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := request("scale-api-3333333333", "critical")
	e.branch(t, r.Branch)
	// The process stopped after creating the pull request, before labelling it.
	e.post(t, "/repos/acme/infra/pulls", fmt.Sprintf(`{"title":"t","head":%q,"base":"main","body":%q}`, r.Branch, "<!-- remediation:proposal id=scale-api-3333333333 runbook=scale-api policy=prod risk=critical -->"), http.StatusCreated)
	p, found, err := e.forge.Lookup(ctx, r.Branch)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	if _, err := e.forge.Recur(ctx, p, r); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.srv.PullRequests("acme", "infra")[0].Labels, ","); got != "remediation,risk:critical" {
		t.Fatalf("labels %q", got)
	}
}

func TestProposalsCountsOpenAndRecentAcrossPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const total = 130 // more than one page of 100
	for i := 1; i <= total; i++ {
		r := request(fmt.Sprintf("scale-api-%010d", i), "low")
		e.branch(t, r.Branch)
		if _, err := e.forge.Open(ctx, r); err != nil {
			t.Fatal(err)
		}
		e.srv.SetCreated("acme", "infra", i, now.Add(-time.Duration(total-i)*time.Minute))
	}
	// Ten closed in the last hour, ten closed long ago; a person's pull request.
	for i := 1; i <= 10; i++ {
		e.srv.Close("acme", "infra", total-i+1, now)
		e.srv.Close("acme", "infra", i, now)
	}
	e.branch(t, "feature")
	e.post(t, "/repos/acme/infra/pulls", `{"title":"by hand","head":"feature","base":"main","body":"mine"}`, http.StatusCreated)

	props, err := e.forge.Proposals(ctx, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	open, closed := 0, 0
	for _, p := range props {
		switch p.State {
		case "open":
			open++
		case "closed":
			closed++
			if p.Created.Before(now.Add(-time.Hour)) {
				t.Errorf("#%d created %s is older than the window", p.Number, p.Created)
			}
		}
	}
	if open != total-20 || closed != 10 {
		t.Fatalf("open %d closed %d, want %d and 10", open, closed, total-20)
	}
	// 131 pull requests in all: two pages of the one list the limits are counted from.
	if pages := e.srv.Requests(http.MethodGet, "/repos/{owner}/{repo}/pulls"); pages < 2 {
		t.Fatalf("%d list requests: pagination not followed", pages)
	}
}

// Reviews read from GitHub, counted for the head only (the rule "an approval is an identity", remediator/TRUST.md).
func TestReviewsCountForTheHeadOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := request("scale-api-cccccccccc", "medium")
	e.branch(t, r.Branch)
	p, err := e.forge.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	e.srv.Review("acme", "infra", p.Number, "alice", "APPROVED", p.Head, at)
	e.srv.Review("acme", "infra", p.Number, "bob", "APPROVED", "0000000000000000000000000000000000000001", at)
	e.srv.Review("acme", "infra", p.Number, "ci[bot]", "APPROVED", p.Head, at)
	reviews, err := e.forge.Reviews(ctx, p.Number)
	if err != nil {
		t.Fatal(err)
	}
	if len(reviews) != 3 || !reviews[2].Bot || reviews[0].CommitID != p.Head {
		t.Fatalf("reviews %+v", reviews)
	}
	got := records.CountReviews(reviews, p.Head, []string{"remediator-bot"})
	if strings.Join(got.Approvers, ",") != "alice" || len(got.Ignored) != 2 {
		t.Fatalf("count %+v", got)
	}
}

// The process dies (here: GitHub keeps failing) after opening the pull request and
// before asking for its reviews: the next repeat asks, once; a reviewed one is left be.
func TestRecurAsksForLostReviewRequests(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := request("scale-api-5555555555", "high")
	e.branch(t, r.Branch)
	const route = "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"
	e.srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: route, Times: 4, Status: http.StatusBadGateway, Body: []byte(`{"message":"Server Error"}`)})
	if _, err := e.forge.Open(ctx, r); err == nil {
		t.Fatal("open succeeded although asking for reviews failed")
	}
	if pr := e.srv.PullRequests("acme", "infra")[0]; len(pr.Reviewers)+len(pr.Teams) != 0 {
		t.Fatalf("reviewers requested despite the fault: %+v", pr)
	}
	for i := 0; i < 2; i++ {
		p, _, err := e.forge.Lookup(ctx, r.Branch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.forge.Recur(ctx, p, r); err != nil {
			t.Fatal(err)
		}
	}
	pr := e.srv.PullRequests("acme", "infra")[0]
	if fmt.Sprint(pr.Reviewers, pr.Teams) != "[alice] [sre]" {
		t.Fatalf("after the repeats: reviewers %v teams %v", pr.Reviewers, pr.Teams)
	}
	if n := e.srv.Requests(http.MethodPost, route); n != 4+1 {
		t.Errorf("%d review requests, want the 4 failed ones and 1 more", n)
	}
}

// Closing as resolved, interrupted after the comment and retried, says it once.
func TestCloseRetriedSaysItOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := request("scale-api-6666666666", "low")
	e.branch(t, r.Branch)
	p, err := e.forge.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Inject(fakegithub.Fault{Method: http.MethodPatch, Route: "/repos/{owner}/{repo}/pulls/{pull_number}", Times: 4, Status: http.StatusBadGateway, Body: []byte(`{"message":"Server Error"}`)})
	if err := e.forge.Close(ctx, p, "The anomaly resolved before this proposal was merged."); err == nil {
		t.Fatal("close succeeded while GitHub failed")
	}
	if err := e.forge.Close(ctx, p, "The anomaly resolved before this proposal was merged."); err != nil {
		t.Fatal(err)
	}
	pr := e.srv.PullRequests("acme", "infra")[0]
	if pr.State != "closed" || len(pr.Comments) != 1 || !strings.Contains(pr.Comments[0], "resolved before this proposal was merged") {
		t.Fatalf("state %s, comments %q", pr.State, pr.Comments)
	}
}
