package github_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
)

// With check_reporters ["*"], statuses and check runs both count, by context or
// name, as branch protection reads them; a name reported both ways counts as the worse.
func TestChecksFromStatusesAndCheckRuns(t *testing.T) {
	e := newEnv(t, func(o *github.Options) { o.Reporters = []string{github.AnyReporter} })
	ctx := context.Background()
	sha := gittest.Run(t, e.dir, "rev-parse", "main")
	got, err := e.forge.Checks(ctx, sha)
	if err != nil || len(got) != 0 {
		t.Fatalf("nothing reported: %v %v", got, err)
	}
	for _, s := range []struct{ context, state string }{
		{"remediation/plan-check", "success"}, {"ci/lint", "pending"}, {"ci/deploy-preview", "error"},
		{"both", "success"},
	} {
		if err := e.forge.SetStatus(ctx, sha, s.context, s.state, "x"); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []struct{ name, status, conclusion string }{
		{"plan", "completed", "success"}, {"docs", "completed", "skipped"}, {"fmt", "completed", "neutral"},
		{"unit", "queued", ""}, {"e2e", "completed", "timed_out"}, {"both", "completed", "failure"},
		{"retried", "completed", "failure"}, {"retried", "completed", "success"},
	} {
		e.srv.CheckRun("acme", "infra", sha, r.name, r.status, r.conclusion)
	}
	// More than one page of check runs.
	for i := 0; i < 105; i++ {
		e.srv.CheckRun("acme", "infra", sha, fmt.Sprintf("matrix-%03d", i), "completed", "success")
	}
	got, err = e.forge.Checks(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]forge.CheckState{
		"remediation/plan-check": forge.CheckSuccess, "ci/lint": forge.CheckPending, "ci/deploy-preview": forge.CheckFailure,
		"plan": forge.CheckSuccess, "docs": forge.CheckSuccess, "fmt": forge.CheckSuccess, "unit": forge.CheckPending,
		"e2e": forge.CheckFailure, "both": forge.CheckFailure, "retried": forge.CheckSuccess, "matrix-104": forge.CheckSuccess,
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
	if len(got) != 4+6+105 { // "both" is one name
		t.Errorf("%d checks, want %d", len(got), 4+6+105)
	}
}

// Checks fail closed: without reporters no status or check run counts, however
// green, and nothing is asked of GitHub.
func TestChecksFailClosedWithoutReporters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sha := gittest.Run(t, e.dir, "rev-parse", "main")
	if err := e.forge.SetStatus(ctx, sha, "terraform-plan", "success", "x"); err != nil {
		t.Fatal(err)
	}
	e.srv.CheckRun("acme", "infra", sha, "plan", "completed", "success")
	got, err := e.forge.Checks(ctx, sha)
	if err != nil || len(got) != 0 {
		t.Fatalf("without forge.check_reporters: %v %v, want nothing counted", got, err)
	}
	for _, route := range []string{"/repos/{owner}/{repo}/commits/{ref}/status", "/repos/{owner}/{repo}/commits/{ref}/statuses", "/repos/{owner}/{repo}/commits/{ref}/check-runs"} {
		if n := e.srv.Requests("GET", route); n != 0 {
			t.Errorf("%s asked %d times", route, n)
		}
	}
}

func TestTeamMember(t *testing.T) {
	e := newEnv(t)
	e.srv.AddTeamMember("acme", "sre", "bob")
	for _, c := range []struct {
		team, login string
		want        bool
	}{{"acme/sre", "bob", true}, {"acme/sre", "BOB", true}, {"acme/sre", "alice", false}, {"acme/dba", "bob", false}} {
		got, err := e.forge.TeamMember(context.Background(), c.team, c.login)
		if err != nil || got != c.want {
			t.Errorf("%s in %s: %v %v, want %v", c.login, c.team, got, err, c.want)
		}
	}
	if _, err := e.forge.TeamMember(context.Background(), "sre", "bob"); err == nil {
		t.Error("a team without org accepted")
	}
}
