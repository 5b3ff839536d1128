package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// The gate-bypass suite on the GitHub-compatible server: real pushes over smart
// HTTP and reviews through the REST API, by people with push access.

// restAs calls the fake's REST API with a person's token.
func restAs(t *testing.T, srv *fakegithub.Server, token, path, body string) (int, string) {
	t.Helper()
	return restDo(t, srv, http.MethodPost, token, path, body)
}

// restDo is a REST call to the fake GitHub with a person's token.
func restDo(t *testing.T, srv *fakegithub.Server, method, token, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/api/v3"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// gitPushAs commits files on a branch (created from from when new) of owner/name and
// pushes it with the person's token.
func gitPushAs(t *testing.T, srv *fakegithub.Server, token, repo, branch, from, email string, files map[string]string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	url := strings.Replace(srv.URL, "http://", "http://x:"+token+"@", 1) + "/" + repo + ".git"
	gittest.Run(t, "", "clone", "-q", url, work)
	if from == "" {
		gittest.Run(t, work, "checkout", "-q", branch)
	} else {
		gittest.Run(t, work, "checkout", "-q", "-b", branch, "origin/"+from)
	}
	for f, c := range files {
		gittest.WriteFile(t, filepath.Join(work, filepath.FromSlash(f)), c)
	}
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-q", "--author", "A Person <"+email+">", "-m", "by hand")
	gittest.Run(t, work, "push", "-q", "-f", "origin", branch)
	return gittest.Run(t, work, "rev-parse", "HEAD")
}

func approveREST(t *testing.T, srv *fakegithub.Server, token string, number int) {
	t.Helper()
	if code, body := restAs(t, srv, token, fmt.Sprintf("/repos/acme/infra/pulls/%d/reviews", number), `{"event":"APPROVE"}`); code != 200 {
		t.Fatalf("review: %d %s", code, body)
	}
}

func TestGateBypassesOnGitHub(t *testing.T) {
	setup := func(t *testing.T) (cfg string, srv *fakegithub.Server, bare, id string) {
		cfg, srv, bare = githubSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredReviewers = nil })
		for login, token := range map[string]string{"alice": "alice-token", "bob": "bob-token", "mallory": "mallory-token"} {
			srv.AddToken(token, login)
			srv.AddEmail(login, login+"@example.com")
		}
		if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
			t.Fatal(errs)
		}
		return cfg, srv, bare, decision.ID("scale-out-api", "service=api-gateway")
	}
	notMerged := func(t *testing.T, srv *fakegithub.Server, bare, before string) {
		t.Helper()
		for _, pr := range srv.PullRequests("acme", "infra") {
			if pr.Merged {
				t.Fatalf("pull request #%d (%s) merged", pr.Number, pr.Head)
			}
		}
		if after := gittest.Run(t, bare, "rev-parse", "main"); after != before {
			t.Fatal("main moved")
		}
	}

	t.Run("a pull request with the marker opened by a collaborator", func(t *testing.T) {
		cfg, srv, bare, id := setup(t)
		before := gittest.Run(t, bare, "rev-parse", "main")
		body := srv.PullRequests("acme", "infra")[0].Body
		forged := decision.ID("scale-out-api", "service=api-forged")
		gitPushAs(t, srv, "mallory-token", "acme/infra", decision.Branch(forged), "main", "mallory@example.com",
			map[string]string{"envs/api-forged.auto.tfvars": "replicas = 40\n", ".remediations/" + forged + ".yaml": strings.ReplaceAll(gittest.Run(t, bare, "show", decision.Branch(id)+":.remediations/"+id+".yaml"), id, forged)})
		code, resp := restAs(t, srv, "mallory-token", "/repos/acme/infra/pulls",
			fmt.Sprintf(`{"title":"remediation","head":%q,"base":"main","body":%q}`, decision.Branch(forged), strings.ReplaceAll(body, id, forged)))
		if code != 201 {
			t.Fatalf("open: %d %s", code, resp)
		}
		approveREST(t, srv, "alice-token", 2)
		if out := reconcileGH(t, cfg); strings.Contains(out, forged) {
			t.Fatalf("a collaborator's pull request was taken for a proposal:\n%s", out)
		}
		notMerged(t, srv, bare, before)
	})
	t.Run("a pull request with the marker from a fork", func(t *testing.T) {
		cfg, srv, bare, id := setup(t)
		before := gittest.Run(t, bare, "rev-parse", "main")
		srv.CreateFork("acme", "infra", "mallory")
		gitPushAs(t, srv, "mallory-token", "mallory/infra", decision.Branch(id), "main", "mallory@example.com", map[string]string{"envs/api-gateway.auto.tfvars": "replicas = 40\n"})
		body := srv.PullRequests("acme", "infra")[0].Body
		code, resp := restAs(t, srv, "mallory-token", "/repos/acme/infra/pulls",
			fmt.Sprintf(`{"title":"remediation","head":"mallory:%s","base":"main","body":%q}`, decision.Branch(id), body))
		if code != 201 {
			t.Fatalf("open: %d %s", code, resp)
		}
		approveREST(t, srv, "alice-token", 2)
		out := reconcileGH(t, cfg)
		if strings.Count(out, "remediation/"+id) != 1 || !strings.Contains(out, "0 of 1 approval(s)") {
			t.Fatalf("the fork's pull request was counted:\n%s", out)
		}
		notMerged(t, srv, bare, before)
	})
	t.Run("a person pushes on top of the proposal after its approval", func(t *testing.T) {
		cfg, srv, bare, id := setup(t)
		before := gittest.Run(t, bare, "rev-parse", "main")
		pr := srv.PullRequests("acme", "infra")[0]
		approveREST(t, srv, "alice-token", pr.Number)
		head := gitPushAs(t, srv, "bob-token", "acme/infra", decision.Branch(id), "", "bob@example.com", map[string]string{".github/workflows/ci.yml": "on: push\n# bob\n"})
		if got := srv.PullRequests("acme", "infra")[0].HeadSHA; got != head {
			t.Fatalf("the push did not move the pull request's head: %s, pushed %s", got, head)
		}
		approveREST(t, srv, "alice-token", pr.Number) // the new head, approved too
		out := reconcileGH(t, cfg)
		if !strings.Contains(out, "changed by a person") {
			t.Fatalf("%s", out)
		}
		notMerged(t, srv, bare, before)
		// Said on the pull request: one comment, however many passes, and a failed status.
		reconcileGH(t, cfg)
		pr = srv.PullRequests("acme", "infra")[0]
		n := 0
		for _, c := range pr.Comments {
			if strings.Contains(c, "Changed by a person") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d changed-by-person comments: %v", n, pr.Comments)
		}
		failed := false
		for _, st := range srv.Statuses("acme", "infra") {
			failed = failed || st.SHA == head && st.Context == "remediation/provenance" && st.State == "failure"
		}
		if !failed {
			t.Fatalf("no failed remediation/provenance status on the head: %+v", srv.Statuses("acme", "infra"))
		}
	})
	t.Run("the pusher approving their own push", func(t *testing.T) {
		cfg, srv, bare, id := setup(t)
		before := gittest.Run(t, bare, "rev-parse", "main")
		pr := srv.PullRequests("acme", "infra")[0]
		gitPushAs(t, srv, "bob-token", "acme/infra", decision.Branch(id), "", "bob@example.com", map[string]string{"envs/api-gateway.auto.tfvars": "replicas = 9\n"})
		approveREST(t, srv, "bob-token", pr.Number)
		if out := reconcileGH(t, cfg); !strings.Contains(out, "changed by a person") {
			t.Fatalf("%s", out)
		}
		notMerged(t, srv, bare, before)
	})
	t.Run("the remediator cannot approve its own pull request", func(t *testing.T) {
		_, srv, _, _ := setup(t)
		if code, body := restAs(t, srv, ghToken, "/repos/acme/infra/pulls/1/reviews", `{"event":"APPROVE"}`); code != 422 {
			t.Fatalf("GitHub lets the author approve: %d %s", code, body)
		}
	})
	t.Run("untouched, approved through REST: merges", func(t *testing.T) {
		cfg, srv, bare, _ := setup(t)
		approveREST(t, srv, "alice-token", 1)
		if out := reconcileGH(t, cfg); !strings.Contains(out, "merged: ") {
			t.Fatalf("%s", out)
		}
		if code, out, errs := cli(t, "audit", "verify", "--repository", bare, "--config", cfg); code != 0 {
			t.Fatalf("audit verify: %d %s %s", code, out, errs)
		}
	})
}

// reconcileGH runs one reconcile pass, which must not fail, and returns its output.
func reconcileGH(t *testing.T, cfg string) string {
	t.Helper()
	code, out, errs := cli(t, "reconcile", "--config", cfg)
	if code != 0 {
		t.Fatalf("reconcile: %d %s", code, errs)
	}
	return out
}
