package github_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
)

const pullsRoute = "/repos/{owner}/{repo}/pulls"

// recordedHeaders are the headers of a real answer recorded in @octokit/fixtures
// (its errors scenario), the base of the rate-limit answers below: GitHub's own
// header set, with the rate-limit fields changed.
func recordedHeaders(t *testing.T) http.Header {
	t.Helper()
	rec := fakegithub.Fixtures(t, "errors")
	h := http.Header(rec[0].Header())
	if h.Get("X-Ratelimit-Limit") == "" || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Fatalf("the recording lost its rate-limit headers: %v", h)
	}
	return h
}

// secondaryLimitBody is GitHub's documented answer to a secondary rate limit.
const secondaryLimitBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:00000:0000000:0000000:00000000.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`

func TestRetriesServerErrors(t *testing.T) {
	e := newEnv(t)
	r := request("scale-api-4444444444", "low")
	e.branch(t, r.Branch)
	e.srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: pullsRoute, Times: 2, Status: http.StatusBadGateway, Body: []byte("<html>502 Bad Gateway</html>")})
	if _, err := e.forge.Open(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got := len(e.srv.PullRequests("acme", "infra")); got != 1 {
		t.Fatalf("%d pull requests", got)
	}
	if w := e.sleeps.all(); len(w) != 2 || w[0] > time.Second || w[1] > 2*time.Second {
		t.Fatalf("waits %v: want two backoffs of at most 1s and 2s", w)
	}
}

func TestGivesUpOnPersistentServerErrors(t *testing.T) {
	e := newEnv(t)
	r := request("scale-api-5555555555", "low")
	e.branch(t, r.Branch)
	e.srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: pullsRoute, Times: 10, Status: http.StatusServiceUnavailable, Body: []byte(`{"message":"unavailable"}`)})
	_, err := e.forge.Open(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err %v, want the 503 named", err)
	}
	if got := e.srv.Requests(http.MethodPost, pullsRoute); got != 4 {
		t.Fatalf("%d attempts, want 4", got)
	}
}

func TestSecondaryRateLimitHonoursRetryAfter(t *testing.T) {
	e := newEnv(t)
	r := request("scale-api-6666666666", "low")
	e.branch(t, r.Branch)
	h := recordedHeaders(t)
	h.Set("Retry-After", "37")
	e.srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: pullsRoute, Status: http.StatusForbidden, Header: h, Body: []byte(secondaryLimitBody)})
	if _, err := e.forge.Open(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if w := e.sleeps.all(); len(w) != 1 || w[0] != 37*time.Second {
		t.Fatalf("waits %v, want exactly the 37s of Retry-After", w)
	}
	if got := len(e.srv.PullRequests("acme", "infra")); got != 1 {
		t.Fatalf("%d pull requests", got)
	}
}

func TestSecondaryRateLimitWithoutRetryAfterWaitsAMinute(t *testing.T) {
	e := newEnv(t)
	r := request("scale-api-6666666667", "low")
	e.branch(t, r.Branch)
	e.srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: pullsRoute, Status: http.StatusForbidden, Header: recordedHeaders(t), Body: []byte(secondaryLimitBody)})
	if _, err := e.forge.Open(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if w := e.sleeps.all(); len(w) != 1 || w[0] != time.Minute {
		t.Fatalf("waits %v, want one minute", w)
	}
}

func TestPrimaryRateLimitWaitsForReset(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, func(o *github.Options) { o.Now = func() time.Time { return now } })
	r := request("scale-api-7777777777", "low")
	e.branch(t, r.Branch)
	h := recordedHeaders(t)
	h.Set("X-Ratelimit-Remaining", "0")
	h.Set("X-Ratelimit-Used", h.Get("X-Ratelimit-Limit"))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(now.Add(90*time.Second).Unix(), 10))
	e.srv.Inject(fakegithub.Fault{Method: http.MethodGet, Route: pullsRoute, Status: http.StatusForbidden, Header: h,
		Body: []byte(`{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting","status":"403"}`)})
	if _, _, err := e.forge.Lookup(context.Background(), r.Branch); err != nil {
		t.Fatal(err)
	}
	if w := e.sleeps.all(); len(w) != 1 || w[0] != 91*time.Second {
		t.Fatalf("waits %v, want until the reset (+1s)", w)
	}
}

func TestRateLimitLongerThanMaxWaitFails(t *testing.T) {
	e := newEnv(t)
	r := request("scale-api-8888888888", "low")
	e.branch(t, r.Branch)
	h := recordedHeaders(t)
	h.Set("Retry-After", "3600")
	e.srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: pullsRoute, Status: http.StatusForbidden, Header: h, Body: []byte(secondaryLimitBody)})
	_, err := e.forge.Open(context.Background(), r)
	var limited *gh.AbuseRateLimitError
	if !errors.As(err, &limited) {
		t.Fatalf("err %v (%T), want a secondary rate limit error", err, err)
	}
	if len(e.sleeps.all()) != 0 || len(e.srv.PullRequests("acme", "infra")) != 0 {
		t.Fatal("waited or opened despite the hour-long limit")
	}
}

func TestLostAnswerOpensExactlyOnePullRequest(t *testing.T) {
	e := newEnv(t, func(o *github.Options) { o.Retry.Timeout = 300 * time.Millisecond })
	r := request("scale-api-9999999999", "low")
	e.branch(t, r.Branch)
	// GitHub creates the pull request, the answer never arrives in time; the retry
	// is refused as a duplicate and the forge finds the first one.
	e.srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: pullsRoute, LostAnswer: true, Delay: 3 * time.Second})
	p, err := e.forge.Open(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	prs := e.srv.PullRequests("acme", "infra")
	if len(prs) != 1 || p.Number != 1 || strings.Join(prs[0].Labels, ",") != "remediation,risk:low" {
		t.Fatalf("%d pull requests, proposal %+v", len(prs), p)
	}
}

func TestSlowAnswerIsRetried(t *testing.T) {
	e := newEnv(t, func(o *github.Options) { o.Retry.Timeout = 300 * time.Millisecond })
	e.srv.Inject(fakegithub.Fault{Method: http.MethodGet, Route: pullsRoute, Delay: 3 * time.Second})
	if _, _, err := e.forge.Lookup(context.Background(), "remediation/x"); err != nil {
		t.Fatal(err)
	}
	if w := e.sleeps.all(); len(w) != 1 {
		t.Fatalf("waits %v, want one retry after the timeout", w)
	}
}

// The recorded 422 of @octokit/fixtures: a validation error is the caller's problem,
// reported with GitHub's reasons and never retried.
func TestRecordedValidationErrorIsNotRetried(t *testing.T) {
	e := newEnv(t)
	r := request("scale-api-aaaaaaaaaa", "low")
	e.branch(t, r.Branch)
	rec := fakegithub.Fixtures(t, "errors")[0]
	e.srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: "/repos/{owner}/{repo}/issues/{issue_number}/labels", Status: rec.Status, Header: rec.Header(), Body: rec.Response})
	_, err := e.forge.Open(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), "422 Validation Failed") || !strings.Contains(err.Error(), "Field:color Code:invalid") {
		t.Fatalf("err %v", err)
	}
	if got := e.srv.Requests(http.MethodPost, "/repos/{owner}/{repo}/issues/{issue_number}/labels"); got != 1 || len(e.sleeps.all()) != 0 {
		t.Fatalf("%d attempts, waits %v: a 422 must not be retried", got, e.sleeps.all())
	}
}

func TestBadTokenIsRefusedWithoutLeaking(t *testing.T) {
	e := newEnv(t, func(o *github.Options) { o.Token = "ghp_wrongTokenValue" })
	_, _, err := e.forge.Lookup(context.Background(), "remediation/x")
	if err == nil || !strings.Contains(err.Error(), "401 Bad credentials") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "ghp_wrongTokenValue") || strings.Contains(e.logs.String(), "ghp_wrongTokenValue") {
		t.Fatal("the token leaked")
	}
	if got := e.srv.Requests(http.MethodGet, pullsRoute); got != 1 {
		t.Fatalf("%d attempts: a 401 must not be retried", got)
	}
}
