package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

const ghToken = "ghp_remediatorTestToken42"

// githubSetup publishes the catalog, starts a fake GitHub holding acme/infra with the
// usual files, and points the config at it with the github forge.
func githubSetup(t testing.TB, adjust func(*runbooks.Runbook, *runbooks.Policy)) (cfg string, srv *fakegithub.Server, bare string) {
	t.Helper()
	cfg = publishedCatalogWith(t, func(rb *runbooks.Runbook, pol *runbooks.Policy) {
		pol.Spec.RequiredReviewers = []string{"alice", "acme/sre"}
		rb.Spec.Cooldown = runbooks.Duration(time.Hour)
		adjust(rb, pol)
	})
	srv = fakegithub.New(t)
	srv.AddToken(ghToken, "remediator-bot")
	srv.AddCollaborator("alice")
	srv.AddTeam("acme", "sre")
	bare = srv.CreateRepo("acme", "infra", map[string]string{
		"envs/api-gateway.auto.tfvars": "# API gateway sizing\nreplicas      = 4 # raised in March\ninstance_type = \"m6i.large\"\n",
		"envs/api-second.auto.tfvars":  "replicas      = 2\ninstance_type = \"m6i.large\"\n",
		".github/workflows/ci.yml":     "on: push\n",
	})
	t.Cleanup(func() { srv.CheckSpec(t) })
	t.Setenv("TEST_GITHUB_TOKEN", ghToken)
	content := fmt.Sprintf(`catalog:
  repository: ./catalog.git
infrastructure:
  repository: %s/acme/infra.git
forge:
  type: github
  owner: acme
  repository: infra
  base_url: %s
  token_env: TEST_GITHUB_TOKEN
state_dir: ./state
`, srv.URL, srv.URL)
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, srv, bare
}

func TestProposeOnGitHub(t *testing.T) {
	cfg, srv, bare := githubSetup(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	id := decision.ID("scale-out-api", "service=api-gateway")
	branch := "remediation/" + id

	code, out, errs := proposeRun(t, cfg, alert("api-gateway"), "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res propose.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err, out)
	}
	if res.Action != decision.Opened || res.URL != srv.URL+"/acme/infra/pull/1" {
		t.Fatalf("result %+v", res)
	}
	prs := srv.PullRequests("acme", "infra")
	if len(prs) != 1 {
		t.Fatalf("%d pull requests", len(prs))
	}
	pr := prs[0]
	if pr.Head != branch || pr.HeadSHA != gittest.Run(t, bare, "rev-parse", branch) || strings.Join(pr.Labels, ",") != "remediation,risk:medium" ||
		strings.Join(pr.Reviewers, ",") != "alice" || strings.Join(pr.Teams, ",") != "sre" {
		t.Fatalf("pull request %+v", pr)
	}
	for _, want := range []string{"<!-- remediation:proposal id=" + id, "| `envs/api-gateway.auto.tfvars` | `replicas` | `4` | `8` |",
		"| `envs/api-gateway.auto.tfvars` | 1 | 1 |", "| label `service` | `api-gateway` |"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	if strings.Contains(errs, ghToken) || strings.Contains(pr.Body, ghToken) || strings.Contains(gittest.Run(t, bare, "log", "--all", "-p"), ghToken) {
		t.Fatal("the token leaked into logs, the pull request or a commit")
	}

	// Repeats update the one pull request and count.
	for i := 1; i <= 2; i++ {
		code, out, errs = proposeRun(t, cfg, alert("api-gateway"))
		if code != 0 || !strings.HasPrefix(out, "updated: "+branch) || !strings.Contains(out, fmt.Sprintf("recurrence %d counted", i)) {
			t.Fatalf("repeat %d: exit %d: %s %s", i, code, out, errs)
		}
	}
	pr = srv.PullRequests("acme", "infra")[0]
	if len(srv.PullRequests("acme", "infra")) != 1 || len(pr.Comments) != 1 || !strings.Contains(pr.Comments[0], "**2** time(s)") {
		t.Fatalf("after repeats: %d pull requests, comments %q", len(srv.PullRequests("acme", "infra")), pr.Comments)
	}
	if n := srv.Requests(http.MethodPatch, "/repos/{owner}/{repo}/pulls/{pull_number}"); n != 0 {
		t.Fatalf("the unchanged body was rewritten %d times", n)
	}

	// Closed without merge: the same anomaly is suppressed for the runbook's cooldown.
	srv.Close("acme", "infra", 1, time.Now())
	code, out, _ = proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.HasPrefix(out, "suppressed: ") || !strings.Contains(out, "closed without merge") {
		t.Fatalf("after close: exit %d: %s", code, out)
	}
	// After the cooldown a fresh proposal replaces the stale branch.
	srv.Close("acme", "infra", 1, time.Now().Add(-2*time.Hour))
	code, out, errs = proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("after cooldown: exit %d: %s %s", code, out, errs)
	}
	prs = srv.PullRequests("acme", "infra")
	if len(prs) != 2 || prs[1].State != "open" || prs[1].HeadSHA != gittest.Run(t, bare, "rev-parse", branch) {
		t.Fatalf("after cooldown: %+v", prs)
	}
}

func TestProposeOnGitHubBadInputPushesNothing(t *testing.T) {
	// The path is only known at run time, from the alert: the catalog cannot refuse it.
	cfg, srv, bare := githubSetup(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Changes[0] = runbooks.Change{Kind: "yaml", File: "{{ .annotations.target }}", Path: "on", Value: "'pull_request_target'"}
	})
	anomaly := strings.Replace(alert("api-gateway"), `"annotations":{"value":"0.9"}`, `"annotations":{"value":"0.9","target":".github/workflows/ci.yml"}`, 1)
	code, _, errs := proposeRun(t, cfg, anomaly)
	if code != 2 || !strings.Contains(errs, "protected") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if refs := gittest.Run(t, bare, "for-each-ref", "refs/heads/remediation/"); refs != "" {
		t.Fatalf("pushed: %s", refs)
	}
	if n := len(srv.PullRequests("acme", "infra")); n != 0 {
		t.Fatalf("%d pull requests", n)
	}
}

// TestMain lets the test binary run as the remediator itself, so a test can kill a
// real process.
func TestMain(m *testing.M) {
	if os.Getenv("REMEDIATOR_TEST_AS_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	sharedGitea.Stop() // the real Gitea, if a test started it
	os.Exit(code)
}

// Killed between pushing the branch and opening the pull request: after a restart the
// queued anomaly is handled again and exactly one pull request exists.
func TestKilledBetweenPushAndPullRequest(t *testing.T) {
	cfg, srv, bare := githubSetup(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	branch := "remediation/" + decision.ID("scale-out-api", "service=api-gateway")
	// GitHub holds the pull request creation back: the process dies waiting.
	srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: "/repos/{owner}/{repo}/pulls", Delay: time.Minute})

	addr := freeAddr(t)
	logFile := filepath.Join(t.TempDir(), "serve.log")
	logs, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	cmd := exec.Command(os.Args[0], "serve", "--config", cfg, "--listen", addr)
	cmd.Env = append(os.Environ(), "REMEDIATOR_TEST_AS_MAIN=1")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()
	t.Cleanup(func() {
		if t.Failed() {
			data, _ := os.ReadFile(logFile)
			t.Logf("serve (killed) logs:\n%s", data)
		}
	})
	waitFor(t, "serve ready", func() bool {
		select {
		case <-exited:
			data, _ := os.ReadFile(logFile)
			t.Fatalf("serve exited: %s", data)
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if code, body := post(t, addr, "/v1/alertmanager", "", alert("api-gateway")); code != http.StatusAccepted {
		t.Fatalf("intake: %d %s", code, body)
	}
	waitFor(t, "branch pushed", func() bool {
		_, err := gittest.Output(bare, "rev-parse", "--verify", "-q", branch)
		return err == nil
	})
	pushed := gittest.Run(t, bare, "rev-parse", branch)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if n := len(srv.PullRequests("acme", "infra")); n != 0 {
		t.Fatalf("%d pull requests before the restart", n)
	}

	stop := startServe(t, cfg, addr)
	defer stop()
	waitFor(t, "pull request opened after restart", func() bool { return len(srv.PullRequests("acme", "infra")) > 0 })
	// Let the worker settle, then the same anomaly once more: still one.
	if code, body := post(t, addr, "/v1/alertmanager", "", alert("api-gateway")); code != http.StatusAccepted {
		t.Fatalf("intake: %d %s", code, body)
	}
	waitFor(t, "recurrence counted", func() bool {
		prs := srv.PullRequests("acme", "infra")
		return len(prs) == 1 && len(prs[0].Comments) == 1
	})
	prs := srv.PullRequests("acme", "infra")
	if len(prs) != 1 || prs[0].HeadSHA != pushed || strings.Join(prs[0].Labels, ",") != "remediation,risk:medium" {
		t.Fatalf("after restart: %+v (pushed %s)", prs, pushed)
	}
}

func resolvedAlert(service string) string {
	return strings.ReplaceAll(strings.Replace(alert(service), `"endsAt":"0001-01-01T00:00:00Z"`, `"endsAt":"2026-11-24T10:30:00Z"`, 1), `"firing"`, `"resolved"`)
}

func TestResolvedBeforeMergeClosesTheProposal(t *testing.T) {
	t.Run("github", func(t *testing.T) {
		cfg, srv, _ := githubSetup(t, func(*runbooks.Runbook, *runbooks.Policy) {})
		if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
			t.Fatal(errs)
		}
		code, out, errs := proposeRun(t, cfg, resolvedAlert("api-gateway"))
		if code != 0 || !strings.HasPrefix(out, "closed: ") {
			t.Fatalf("resolved: %d %s %s", code, out, errs)
		}
		pr := srv.PullRequests("acme", "infra")[0]
		if pr.State != "closed" || pr.Merged || len(pr.Comments) != 1 || !strings.Contains(pr.Comments[0], "resolved at") || !strings.Contains(strings.Join(pr.Labels, ","), "resolved") {
			t.Fatalf("pull request %+v", pr)
		}
		// It fires again: a withdrawn proposal does not suppress a new one.
		if code, out, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "opened: ") {
			t.Fatalf("fires again: %d %s %s", code, out, errs)
		}
		if n := len(srv.PullRequests("acme", "infra")); n != 2 {
			t.Fatalf("%d pull requests", n)
		}
	})
	t.Run("local", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
		code, out, errs := proposeRun(t, cfg, resolvedAlert("api-gateway"))
		if code != 0 || !strings.HasPrefix(out, "closed: ") {
			t.Fatalf("resolved: %d %s %s", code, out, errs)
		}
		if _, err := gittest.Output(infra, "rev-parse", "--verify", "-q", decision.Branch(id)); err == nil {
			t.Fatal("the proposal branch is still there")
		}
		// Nothing open any more: a second resolved notification is a no-op.
		if code, out, _ := proposeRun(t, cfg, resolvedAlert("api-gateway")); code != 0 || !strings.HasPrefix(out, "suppressed: ") {
			t.Fatalf("again: %d %s", code, out)
		}
	})
}

// Reviews on GitHub gate the merge; the merge goes through the API at the reviewed
// head, with the trailers and Approved-by, and the audit can back every approval.
func TestGitHubReviewsGateTheMerge(t *testing.T) {
	cfg, srv, bare := githubSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = []string{"alice", "acme/sre"}
		p.Spec.RequiredChecks = []string{"terraform-plan"}
	})
	srv.AddCollaborator("bob")
	withForgeLines(t, cfg, "check_reporters: [ci]") // the CI App's check runs count
	if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
		t.Fatal(errs)
	}
	pr := srv.PullRequests("acme", "infra")[0]
	id := decision.ID("scale-out-api", "service=api-gateway")
	at := time.Now()
	reconcile := func() string { t.Helper(); return reconcileGH(t, cfg) }
	if out := reconcile(); !strings.Contains(out, "0 of 1 approval(s)") {
		t.Fatalf("no review: %s", out)
	}
	// The author's own approval and a bot's do not count; a stale one neither.
	srv.Review("acme", "infra", pr.Number, "remediator-bot", "APPROVED", pr.HeadSHA, at)
	srv.Review("acme", "infra", pr.Number, "ci[bot]", "APPROVED", pr.HeadSHA, at)
	srv.Review("acme", "infra", pr.Number, "carol", "APPROVED", "0000000000000000000000000000000000000001", at)
	if out := reconcile(); !strings.Contains(out, "0 of 1 approval(s)") || !strings.Contains(out, "author or a pusher to its branch cannot approve") || !strings.Contains(out, "bot's approval") || !strings.Contains(out, "not the head") {
		t.Fatalf("uncounted reviews: %s", out)
	}
	// An approval, then changes requested by someone else: blocked.
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, at.Add(time.Second))
	srv.Review("acme", "infra", pr.Number, "bob", "CHANGES_REQUESTED", pr.HeadSHA, at.Add(2*time.Second))
	if out := reconcile(); !strings.Contains(out, "changes requested by bob") {
		t.Fatalf("changes requested: %s", out)
	}
	// Bob approves now, but nobody of the required team acme/sre has.
	srv.Review("acme", "infra", pr.Number, "bob", "APPROVED", pr.HeadSHA, at.Add(3*time.Second))
	if out := reconcile(); !strings.Contains(out, "no approval on this commit from a member of required team acme/sre") {
		t.Fatalf("team: %s", out)
	}
	// Bob is in the team (GitHub says so); the required check has not reported: not green.
	srv.AddTeamMember("acme", "sre", "bob")
	if out := reconcile(); !strings.Contains(out, "required checks not green on the head commit (not reported yet: terraform-plan)") {
		t.Fatalf("no check yet: %s", out)
	}
	srv.CheckRun("acme", "infra", pr.HeadSHA, "terraform-plan", "in_progress", "")
	if out := reconcile(); !strings.Contains(out, "still running: terraform-plan") {
		t.Fatalf("check running: %s", out)
	}
	srv.CheckRun("acme", "infra", pr.HeadSHA, "terraform-plan", "completed", "failure")
	if out := reconcile(); !strings.Contains(out, "failed: terraform-plan") {
		t.Fatalf("check failed: %s", out)
	}
	if srv.PullRequests("acme", "infra")[0].Merged {
		t.Fatal("merged without a green required check")
	}
	// The check is re-run and passes; the head moves between the check and the merge: no merge.
	srv.CheckRun("acme", "infra", pr.HeadSHA, "terraform-plan", "completed", "success")
	// GitHub's own branch protection refuses (a check only GitHub requires): it waits, saying why.
	srv.Inject(fakegithub.Fault{Method: http.MethodPut, Route: "/repos/{owner}/{repo}/pulls/{pull_number}/merge", Status: http.StatusMethodNotAllowed,
		Body: []byte(`{"message":"Required status check \"security-scan\" is expected.","documentation_url":"https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"}`)})
	if out := reconcile(); !strings.Contains(out, `the forge refuses to merge: Required status check "security-scan" is expected.`) {
		t.Fatalf("branch protection: %s", out)
	}
	srv.Inject(fakegithub.Fault{Method: http.MethodPut, Route: "/repos/{owner}/{repo}/pulls/{pull_number}/merge", Status: http.StatusConflict,
		Body: []byte(`{"message":"Head branch was modified. Review and try the merge again.","documentation_url":"https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"}`)})
	if out := reconcile(); !strings.Contains(out, "the head moved between the check and the merge") {
		t.Fatalf("head moved: %s", out)
	}
	if srv.PullRequests("acme", "infra")[0].Merged {
		t.Fatal("merged although the head moved")
	}
	// Now it merges, at the reviewed head.
	if out := reconcile(); !strings.Contains(out, "merged: ") {
		t.Fatalf("merge: %s", out)
	}
	if pr := srv.PullRequests("acme", "infra")[0]; !pr.Merged {
		t.Fatal("not merged")
	}
	if parents := gittest.Run(t, bare, "log", "-1", "--format=%P", "main"); !strings.HasSuffix(parents, " "+pr.HeadSHA) {
		t.Fatalf("merged %s, not the reviewed head %s", parents, pr.HeadSHA)
	}
	trailers := gittest.Run(t, bare, "log", "-1", "--format=%(trailers:only,unfold)", "main")
	for _, want := range []string{"Remediation-Id: " + id, "Approved-by: alice", "Approved-by: bob"} {
		if !strings.Contains(trailers, want) {
			t.Errorf("merge trailers lack %q:\n%s", want, trailers)
		}
	}
	if code, out, _ := cli(t, "audit", "verify", "--repository", bare, "--config", cfg); code != 0 {
		t.Fatalf("audit verify: %d %s", code, out)
	}
}

// serve's reconcile loop merges on GitHub too, once the review arrives.
func TestServeMergesOnGitHub(t *testing.T) {
	cfg, srv, bare := githubSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredReviewers = []string{"alice"} })
	addr := freeAddr(t)
	stop := startServe(t, cfg, addr, "--reconcile-interval", "200ms")
	defer stop()
	if code, body := post(t, addr, "/v1/alertmanager", "", alert("api-gateway")); code != http.StatusAccepted {
		t.Fatalf("intake: %d %s", code, body)
	}
	waitFor(t, "the pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 1 })
	time.Sleep(500 * time.Millisecond)
	pr := srv.PullRequests("acme", "infra")[0]
	if pr.Merged {
		t.Fatal("merged without a review")
	}
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	waitFor(t, "serve to merge it", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })
	if trailers := gittest.Run(t, bare, "log", "-1", "--format=%(trailers:only,unfold)", "main"); !strings.Contains(trailers, "Approved-by: alice") {
		t.Fatalf("trailers:\n%s", trailers)
	}
}

// A GitHub webhook, verified by its signature, asks serve for a reconcile pass now.
func TestGitHubWebhookTriggersAPass(t *testing.T) {
	cfg, srv, _ := githubSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredReviewers = []string{"alice"} })
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, strings.Replace(string(data), "  token_env: TEST_GITHUB_TOKEN\n", "  token_env: TEST_GITHUB_TOKEN\n  webhook_secret_env: TEST_WEBHOOK_SECRET\n", 1))
	const secret = "whsec-0123456789"
	t.Setenv("TEST_WEBHOOK_SECRET", secret)
	addr := freeAddr(t)
	stop := startServe(t, cfg, addr, "--reconcile-interval", "1h") // only webhooks can trigger a pass
	defer stop()
	if code, body := post(t, addr, "/v1/alertmanager", "", alert("api-gateway")); code != http.StatusAccepted {
		t.Fatalf("intake: %d %s", code, body)
	}
	waitFor(t, "the pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 1 })
	pr := srv.PullRequests("acme", "infra")[0]
	// Opening asks for a pass over the new pull request (for the status): the review
	// comes after it, so that only a delivery can start the pass that sees it.
	waitFor(t, "the pass over the new pull request", func() bool {
		_, out, _ := cli(t, "status", "--config", cfg)
		return strings.Contains(out, "waiting ")
	})
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())

	payload := fmt.Sprintf(`{"action":"submitted","review":{"state":"approved","commit_id":%q},"pull_request":{"number":%d}}`, pr.HeadSHA, pr.Number)
	deliver := func(signature string) int {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/github", strings.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "pull_request_review")
		if signature != "" {
			req.Header.Set("X-Hub-Signature-256", signature)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payload))
	good := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	for _, bad := range []string{"", "sha256=" + strings.Repeat("0", 64)} {
		if code := deliver(bad); code != http.StatusUnauthorized {
			t.Fatalf("signature %q: %d, want 401", bad, code)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if srv.PullRequests("acme", "infra")[0].Merged {
		t.Fatal("merged on an unsigned delivery")
	}
	if code := deliver(good); code != http.StatusAccepted {
		t.Fatalf("signed delivery: %d", code)
	}
	waitFor(t, "the merge the webhook asked for", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })

	// A burst of 30 events asks for passes, but they start at most every 2 s.
	passes := func() int {
		n := 0
		for _, line := range strings.Split(scrape(t, addr), "\n") {
			if v, ok := strings.CutPrefix(line, `remediator_reconcile_passes_total{result="ok"} `); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		return n
	}
	waitFor(t, "the pass to be counted", func() bool { return passes() >= 1 })
	time.Sleep(2100 * time.Millisecond)
	before := passes()
	for i := 0; i < 30; i++ {
		if code := deliver(good); code != http.StatusAccepted {
			t.Fatalf("delivery %d: %d", i, code)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	if n := passes() - before; n > 1 {
		t.Fatalf("%d passes for a burst of 30 events within 1.5 s, want at most 1 (the rest wait their turn)", n)
	}
	// The burst comes down to two passes: the first, and one for all that came during it.
	waitFor(t, "the second pass", func() bool { return passes()-before >= 2 })
	time.Sleep(2500 * time.Millisecond)
	if n := passes() - before; n != 2 {
		t.Fatalf("%d passes for a burst of 30 events, want 2", n)
	}
}

// On GitHub, `status` shows the last pass serve kept and asks GitHub nothing.
func TestStatusOnGitHubAsksNothing(t *testing.T) {
	cfg, srv, _ := githubSetup(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: %d %s", code, errs)
	}
	before := srv.Counted() + srv.NotModified()
	code, out, errs := cli(t, "status", "--config", cfg)
	if code != 0 || !strings.Contains(out, "no reconcile pass has finished yet") {
		t.Fatalf("status: %d %s %s", code, out, errs)
	}
	if after := srv.Counted() + srv.NotModified(); after != before {
		t.Fatalf("status asked GitHub %d time(s)", after-before)
	}
}
