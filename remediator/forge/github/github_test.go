package github_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
)

const token = "ghp_fakeTokenValue0123456789"

// env is a fake GitHub with acme/infra, and a forge talking to it.
type env struct {
	srv    *fakegithub.Server
	dir    string
	forge  *github.Forge
	sleeps *sleeps
	logs   *bytes.Buffer
}

type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return nil
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func newEnv(t *testing.T, mutate ...func(*github.Options)) *env {
	t.Helper()
	srv := fakegithub.New(t)
	srv.AddToken(token, "remediator-bot")
	srv.AddCollaborator("alice")
	srv.AddTeam("acme", "sre")
	dir := srv.CreateRepo("acme", "infra", map[string]string{"envs/prod/api.auto.tfvars": "replicas = 2\n"})
	t.Cleanup(func() { srv.CheckSpec(t) })
	e := &env{srv: srv, dir: dir, sleeps: &sleeps{}, logs: &bytes.Buffer{}}
	o := github.Options{
		Owner: "acme", Repository: "infra", BaseURL: srv.URL, Token: token,
		Retry: github.Retry{Attempts: 4, MaxWait: 2 * time.Minute, Timeout: 5 * time.Second, Backoff: time.Second},
		Sleep: e.sleeps.sleep, Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mutate {
		m(&o)
	}
	f, err := github.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.forge = f
	return e
}

// branch creates a proposal branch on the fake at main's head.
func (e *env) branch(t *testing.T, name string) {
	t.Helper()
	gittest.Run(t, e.dir, "update-ref", "refs/heads/"+name, "refs/heads/main")
}

func request(id, risk string) forge.Request {
	a := &artifact.Artifact{
		ID: id, Runbook: "scale-api", RunbookVersion: "0123456789ab", Policy: "prod", Risk: risk, RequiredApprovals: 1,
		Target: "api", Rollback: "revert", Expected: "alert HighLatency resolves within 15m of the merge",
		Anomaly: artifact.Anomaly{Fingerprint: "f1", Source: "alertmanager", Status: "firing", StartsAt: "2026-11-25T04:00:00Z", Value: 0.93,
			Labels: map[string]string{"alertname": "HighLatency", "service": "api"}},
		Changes: []artifact.Change{{File: "envs/prod/api.auto.tfvars", Path: "replicas", From: "2", To: "4"}},
		Verify:  artifact.Verify{Within: "15m", AlertResolved: true, PromQL: `histogram_quantile(0.99, rate(x[5m])) < 0.5`},
		Merge:   artifact.Merge{Allowed: true},
	}
	return forge.Request{Branch: "remediation/" + id, Base: "main", Artifact: a, Reviewers: []string{"alice", "acme/sre"},
		DiffStat: []forge.FileStat{{File: "envs/prod/api.auto.tfvars", Additions: 1, Deletions: 1}}, Seen: time.Date(2026, 11, 25, 4, 1, 0, 0, time.UTC), Value: 0.93}
}

func TestOpenPullRequest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := request("scale-api-0a1b2c3d4e", "high")
	e.branch(t, r.Branch)
	p, err := e.forge.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	prs := e.srv.PullRequests("acme", "infra")
	if len(prs) != 1 {
		t.Fatalf("%d pull requests, want 1", len(prs))
	}
	pr := prs[0]
	if p.Number != pr.Number || p.State != forge.Open || p.ID != r.Artifact.ID || p.Policy != "prod" || !strings.HasSuffix(p.URL, "/acme/infra/pull/1") {
		t.Errorf("proposal %+v", p)
	}
	if pr.Head != r.Branch || pr.Base != "main" || pr.Title != "remediation(scale-api): envs/prod/api.auto.tfvars replicas 2 -> 4" {
		t.Errorf("pull request %+v", pr)
	}
	if got := strings.Join(pr.Labels, ","); got != "remediation,risk:high" {
		t.Errorf("labels %q", got)
	}
	if strings.Join(pr.Reviewers, ",") != "alice" || strings.Join(pr.Teams, ",") != "sre" {
		t.Errorf("reviewers %v teams %v", pr.Reviewers, pr.Teams)
	}
	for _, want := range []string{
		"<!-- remediation:proposal id=scale-api-0a1b2c3d4e runbook=scale-api policy=prod risk=high -->",
		"### Anomaly", "| label `service` | `api` |", "Risk **high** under policy **prod**: 1 approval(s) required, reviewers `alice`, `acme/sre`.",
		"| `envs/prod/api.auto.tfvars` | `replicas` | `2` | `4` |", "alert HighLatency resolves within 15m of the merge.",
		"```promql\nhistogram_quantile", "### Rollback", "`.remediations/scale-api-0a1b2c3d4e.yaml`",
	} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}

	// Found again by its marker, in any state.
	got, found, err := e.forge.Lookup(ctx, r.Branch)
	if err != nil || !found || got.Number != 1 || got.State != forge.Open {
		t.Fatalf("lookup: %+v %v %v", got, found, err)
	}
	// Opening again (a retry after a crash) returns the same pull request.
	again, err := e.forge.Open(ctx, r)
	if err != nil || again.Number != 1 || len(e.srv.PullRequests("acme", "infra")) != 1 {
		t.Fatalf("second open: %+v %v, %d pull requests", again, err, len(e.srv.PullRequests("acme", "infra")))
	}
	if strings.Contains(e.logs.String(), token) {
		t.Fatal("the token reached the logs")
	}
}

func TestLookupIgnoresOthersAndSeesClosed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := request("scale-api-1111111111", "low")
	if _, found, err := e.forge.Lookup(ctx, r.Branch); err != nil || found {
		t.Fatalf("nothing opened yet: found=%v err=%v", found, err)
	}
	e.branch(t, r.Branch)
	if _, err := e.forge.Open(ctx, r); err != nil {
		t.Fatal(err)
	}
	closedAt := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	e.srv.Close("acme", "infra", 1, closedAt)
	p, found, err := e.forge.Lookup(ctx, r.Branch)
	if err != nil || !found || p.State != forge.Closed || !p.Closed.Equal(closedAt) {
		t.Fatalf("closed: %+v %v %v", p, found, err)
	}
	// A person's pull request from a proposal-looking branch is not ours.
	e.branch(t, "remediation/by-hand")
	e.post(t, "/repos/acme/infra/pulls", `{"title":"by hand","head":"remediation/by-hand","base":"main","body":"mine"}`, http.StatusCreated)
	if p, found, err := e.forge.Lookup(ctx, "remediation/by-hand"); err != nil || found {
		t.Fatalf("a person's pull request was taken as a proposal: %+v %v", p, err)
	}
}

// post sends a REST request as a person would, outside the forge.
//
//nolint:unparam // want states what the case expects
func (e *env) post(t *testing.T, path, body string, want int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v3"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d", path, resp.StatusCode, want)
	}
}

// Whoever authored or committed a commit of the pull request is a pusher: none of
// them may approve it (GitHub's require_last_push_approval, and more).
func TestPushersAreTheCommitsAccounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.srv.AddCollaborator("bob")
	e.srv.AddEmail("bob", "bob@example.com")
	r := request("scale-api-2222222222", "low")
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", e.dir, work)
	gittest.Run(t, work, "checkout", "-q", "-b", r.Branch)
	gittest.WriteFile(t, work+"/x.txt", "x\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-q", "--author", "Bob <bob@example.com>", "-m", "bob's")
	gittest.Run(t, work, "push", "-q", "origin", r.Branch)
	p, err := e.forge.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.forge.Pushers(ctx, p.Number)
	if err != nil || strings.Join(got, ",") != "bob" {
		t.Fatalf("pushers %v %v", got, err)
	}
	if self, err := e.forge.Self(ctx); err != nil || self != "remediator-bot" {
		t.Fatalf("self %q %v", self, err)
	}
}
