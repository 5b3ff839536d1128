package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// The gate-bypass suite on the GitHub test server, part 2: what a person with some
// access to the repository can do to the remediator's pull request (issue 23:
// write access, the pull request is the remediator's whole, checks fail closed).

// ghPeople gives the fake GitHub alice, bob, mallory (writers) and the given extra
// roles, each with a token "<login>-token" and an email.
func ghPeople(srv *fakegithub.Server, roles map[string]string) {
	for _, login := range []string{"alice", "bob", "mallory"} {
		srv.AddToken(login+"-token", login)
		srv.AddEmail(login, login+"@example.com")
	}
	for login, role := range roles {
		srv.SetRole(login, role)
		srv.AddToken(login+"-token", login)
		srv.AddEmail(login, login+"@example.com")
	}
}

// withForgeLines adds lines under forge: in the configuration file.
func withForgeLines(t *testing.T, cfg string, lines ...string) {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	add := ""
	for _, l := range lines {
		add += "  " + l + "\n"
	}
	writeFile(t, cfg, strings.Replace(string(data), "  token_env: TEST_GITHUB_TOKEN\n", "  token_env: TEST_GITHUB_TOKEN\n"+add, 1))
}

// ghProposed opens the proposal of api-gateway on a fake GitHub with the people.
func ghProposed(t *testing.T, roles map[string]string, adjust func(*runbooks.Runbook, *runbooks.Policy)) (cfg string, srv *fakegithub.Server, bare string) {
	t.Helper()
	cfg, srv, bare = githubSetup(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = nil
		adjust(rb, p)
	})
	ghPeople(srv, roles)
	if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
		t.Fatal(errs)
	}
	return cfg, srv, bare
}

// refsUnmoved fails when any pull request merged or a branch other than the
// proposal's moved from before.
func refsUnmoved(t *testing.T, srv *fakegithub.Server, bare, before string) {
	t.Helper()
	for _, pr := range srv.PullRequests("acme", "infra") {
		if pr.Merged {
			t.Fatalf("pull request #%d (%s into %s) merged", pr.Number, pr.Head, pr.Base)
		}
	}
	if after := gittest.Run(t, bare, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/"); after != before {
		t.Fatalf("a branch moved:\nbefore %s\nafter  %s", before, after)
	}
}

func branchesOf(t *testing.T, bare string) string {
	t.Helper()
	return gittest.Run(t, bare, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/")
}

//nolint:unparam // the number names the pull request the case reviews
func reviewAs(t *testing.T, srv *fakegithub.Server, login string, number int, event string) {
	t.Helper()
	code, body := restAs(t, srv, login+"-token", fmt.Sprintf("/repos/acme/infra/pulls/%d/reviews", number), fmt.Sprintf(`{"event":%q}`, event))
	if code != 200 {
		t.Fatalf("review by %s: %d %s", login, code, body)
	}
}

// Issue 23, "Write access": an approval counts only from an account GitHub says can
// write to the repository now.
func TestGateBypassesOnGitHubWriteAccess(t *testing.T) {
	for _, role := range []string{fakegithub.RoleRead, fakegithub.RoleTriage} {
		t.Run("an account with "+role+" access approves", func(t *testing.T) {
			cfg, srv, bare := ghProposed(t, map[string]string{"rita": role}, func(*runbooks.Runbook, *runbooks.Policy) {})
			before := branchesOf(t, bare)
			reviewAs(t, srv, "rita", 1, "APPROVE")
			out := reconcileGH(t, cfg)
			refsUnmoved(t, srv, bare, before)
			if !strings.Contains(out, "0 of 1 approval(s)") || !strings.Contains(out, "rita: no write access to the repository (role "+role+")") {
				t.Fatalf("%s", out)
			}
		})
	}
	for _, role := range []string{fakegithub.RoleWrite, fakegithub.RoleMaintain, fakegithub.RoleAdmin} {
		t.Run("an account with "+role+" access approves: merges", func(t *testing.T) {
			cfg, srv, _ := ghProposed(t, map[string]string{"wendy": role}, func(*runbooks.Runbook, *runbooks.Policy) {})
			reviewAs(t, srv, "wendy", 1, "APPROVE")
			if out := reconcileGH(t, cfg); !strings.Contains(out, "merged: ") || !strings.Contains(out, "approved by wendy") {
				t.Fatalf("%s", out)
			}
		})
	}
	t.Run("a read account cannot push, merge or set a status", func(t *testing.T) {
		_, srv, bare := ghProposed(t, map[string]string{"rita": fakegithub.RoleRead}, func(*runbooks.Runbook, *runbooks.Policy) {})
		head := srv.PullRequests("acme", "infra")[0].HeadSHA
		if code, body := restDo(t, srv, http.MethodPut, "rita-token", "/repos/acme/infra/pulls/1/merge", `{"merge_method":"merge"}`); code != 403 {
			t.Fatalf("merge by a reader: %d %s", code, body)
		}
		if code, body := restAs(t, srv, "rita-token", "/repos/acme/infra/statuses/"+head, `{"state":"success","context":"terraform-plan"}`); code != 404 {
			t.Fatalf("status by a reader: %d %s", code, body)
		}
		work := t.TempDir()
		url := strings.Replace(srv.URL, "http://", "http://x:rita-token@", 1) + "/acme/infra.git"
		gittest.Run(t, "", "clone", "-q", url, work+"/w")
		gittest.WriteFile(t, work+"/w/x.txt", "x\n")
		gittest.Run(t, work+"/w", "add", "-A")
		gittest.Run(t, work+"/w", "commit", "-q", "-m", "x")
		if out, err := gittest.Output(work+"/w", "push", "-q", "origin", "HEAD:refs/heads/rita"); err == nil {
			t.Fatalf("a reader pushed: %s", out)
		}
		if _, err := gittest.Output(bare, "rev-parse", "--verify", "-q", "refs/heads/rita"); err == nil {
			t.Fatal("the reader's branch is there")
		}
	})
}

// Issue 23, "The pull request is the remediator's, whole".
func TestGateBypassesOnGitHubWholePullRequest(t *testing.T) {
	t.Run("someone retargets the pull request to another base", func(t *testing.T) {
		cfg, srv, bare := ghProposed(t, nil, func(*runbooks.Runbook, *runbooks.Policy) {})
		gittest.Run(t, bare, "update-ref", "refs/heads/release", "refs/heads/main")
		if code, body := restDo(t, srv, http.MethodPatch, "mallory-token", "/repos/acme/infra/pulls/1", `{"base":"release"}`); code != 200 {
			t.Fatalf("retarget: %d %s", code, body)
		}
		before := branchesOf(t, bare)
		reviewAs(t, srv, "alice", 1, "APPROVE")
		out := reconcileGH(t, cfg)
		refsUnmoved(t, srv, bare, before)
		if !strings.Contains(out, "merges into release, not the configured base main") {
			t.Fatalf("%s", out)
		}
	})
	t.Run("closed by a reviewer, reopened by someone else", func(t *testing.T) {
		cfg, srv, bare := ghProposed(t, nil, func(*runbooks.Runbook, *runbooks.Policy) {})
		if code, body := restDo(t, srv, http.MethodPatch, "alice-token", "/repos/acme/infra/pulls/1", `{"state":"closed"}`); code != 200 {
			t.Fatalf("close: %d %s", code, body)
		}
		if code, body := restDo(t, srv, http.MethodPatch, "mallory-token", "/repos/acme/infra/pulls/1", `{"state":"open"}`); code != 200 {
			t.Fatalf("reopen: %d %s", code, body)
		}
		before := branchesOf(t, bare)
		reviewAs(t, srv, "bob", 1, "APPROVE")
		out := reconcileGH(t, cfg)
		refsUnmoved(t, srv, bare, before)
		if !strings.Contains(out, "closed by alice at ") || !strings.Contains(out, "a rejection") {
			t.Fatalf("%s", out)
		}
		// The rejection starts the runbook's cooldown: the anomaly again proposes nothing.
		if code, out, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "suppressed: ") || !strings.Contains(out, "by alice at ") {
			t.Fatalf("propose after the rejection: %d %s %s", code, out, errs)
		}
	})
	t.Run("closed by a reviewer and labelled resolved by them", func(t *testing.T) {
		cfg, srv, _ := ghProposed(t, nil, func(*runbooks.Runbook, *runbooks.Policy) {})
		restAs(t, srv, "alice-token", "/repos/acme/infra/issues/1/labels", `["resolved"]`)
		if code, body := restDo(t, srv, http.MethodPatch, "alice-token", "/repos/acme/infra/pulls/1", `{"state":"closed"}`); code != 200 {
			t.Fatalf("close: %d %s", code, body)
		}
		if code, out, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "suppressed: ") {
			t.Fatalf("a person's close labelled resolved was taken for a withdrawal: %d %s %s", code, out, errs)
		}
	})
	t.Run("changes requested, dismissed by someone else with write access", func(t *testing.T) {
		cfg, srv, bare := ghProposed(t, nil, func(*runbooks.Runbook, *runbooks.Policy) {})
		reviewAs(t, srv, "bob", 1, "REQUEST_CHANGES")
		reviewAs(t, srv, "alice", 1, "APPROVE")
		dismissAll(t, srv, "mallory", "bob")
		before := branchesOf(t, bare)
		out := reconcileGH(t, cfg)
		refsUnmoved(t, srv, bare, before)
		if !strings.Contains(out, "changes requested by bob") || !strings.Contains(out, "dismissed by mallory") {
			t.Fatalf("%s", out)
		}
	})
	t.Run("changes requested, dismissed by a required reviewer: merges", func(t *testing.T) {
		cfg, srv, _ := ghProposed(t, nil, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredReviewers = []string{"alice"} })
		reviewAs(t, srv, "bob", 1, "REQUEST_CHANGES")
		reviewAs(t, srv, "alice", 1, "APPROVE")
		dismissAll(t, srv, "alice", "bob")
		if out := reconcileGH(t, cfg); !strings.Contains(out, "merged: ") {
			t.Fatalf("%s", out)
		}
	})
	t.Run("changes requested, withdrawn by its author: merges", func(t *testing.T) {
		cfg, srv, _ := ghProposed(t, nil, func(*runbooks.Runbook, *runbooks.Policy) {})
		reviewAs(t, srv, "bob", 1, "REQUEST_CHANGES")
		reviewAs(t, srv, "alice", 1, "APPROVE")
		dismissAll(t, srv, "bob", "bob")
		if out := reconcileGH(t, cfg); !strings.Contains(out, "merged: ") {
			t.Fatalf("%s", out)
		}
	})
}

// dismissAll dismisses every review of reviewer on pull request 1, as login.
func dismissAll(t *testing.T, srv *fakegithub.Server, login, reviewer string) {
	t.Helper()
	code, body := restDo(t, srv, http.MethodGet, login+"-token", "/repos/acme/infra/pulls/1/reviews", "")
	if code != 200 {
		t.Fatalf("reviews: %d %s", code, body)
	}
	n := 0
	for _, part := range strings.Split(body, `"node_id":"PRR_`)[1:] {
		id, _, _ := strings.Cut(part, `"`)
		if !strings.Contains(part, `"login":"`+reviewer+`"`) {
			continue
		}
		code, resp := restDo(t, srv, http.MethodPut, login+"-token", "/repos/acme/infra/pulls/1/reviews/"+id+"/dismissals", `{"message":"not needed","event":"DISMISS"}`)
		if code != 200 {
			t.Fatalf("dismiss %s: %d %s", id, code, resp)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no review of %s to dismiss: %s", reviewer, body)
	}
}

// Issue 23, "Checks fail closed" on GitHub.
func TestGateBypassesOnGitHubChecks(t *testing.T) {
	checks := func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredChecks = []string{"terraform-plan"} }
	t.Run("a green status from anyone with write access, check_reporters unset", func(t *testing.T) {
		cfg, srv, bare := ghProposed(t, nil, checks)
		head := srv.PullRequests("acme", "infra")[0].HeadSHA
		if code, body := restAs(t, srv, "mallory-token", "/repos/acme/infra/statuses/"+head, `{"state":"success","context":"terraform-plan"}`); code != 201 {
			t.Fatalf("status: %d %s", code, body)
		}
		reviewAs(t, srv, "alice", 1, "APPROVE")
		before := branchesOf(t, bare)
		out := reconcileGH(t, cfg)
		refsUnmoved(t, srv, bare, before)
		if !strings.Contains(out, "not reported yet: terraform-plan") || !strings.Contains(out, "forge.check_reporters") {
			t.Fatalf("%s", out)
		}
	})
	t.Run("check_reporters [\"*\"]: every status counts, as the operator chose", func(t *testing.T) {
		cfg, srv, _ := ghProposed(t, nil, checks)
		withForgeLines(t, cfg, `check_reporters: ["*"]`)
		head := srv.PullRequests("acme", "infra")[0].HeadSHA
		restAs(t, srv, "mallory-token", "/repos/acme/infra/statuses/"+head, `{"state":"success","context":"terraform-plan"}`)
		reviewAs(t, srv, "alice", 1, "APPROVE")
		if out := reconcileGH(t, cfg); !strings.Contains(out, "merged: ") {
			t.Fatalf("%s", out)
		}
	})
	t.Run("a green status from the listed reporter counts", func(t *testing.T) {
		cfg, srv, _ := ghProposed(t, map[string]string{"ci-bot": fakegithub.RoleWrite}, checks)
		withForgeLines(t, cfg, `check_reporters: ["ci-bot"]`)
		head := srv.PullRequests("acme", "infra")[0].HeadSHA
		restAs(t, srv, "mallory-token", "/repos/acme/infra/statuses/"+head, `{"state":"success","context":"terraform-plan"}`)
		reviewAs(t, srv, "alice", 1, "APPROVE")
		if out := reconcileGH(t, cfg); !strings.Contains(out, "not reported yet: terraform-plan") {
			t.Fatalf("mallory's status counted: %s", out)
		}
		restAs(t, srv, "ci-bot-token", "/repos/acme/infra/statuses/"+head, `{"state":"success","context":"terraform-plan"}`)
		if out := reconcileGH(t, cfg); !strings.Contains(out, "merged: ") {
			t.Fatalf("%s", out)
		}
	})
	t.Run("a check reporter approves", func(t *testing.T) {
		cfg, srv, bare := ghProposed(t, map[string]string{"ci-bot": fakegithub.RoleWrite}, func(*runbooks.Runbook, *runbooks.Policy) {})
		withForgeLines(t, cfg, `check_reporters: ["ci-bot"]`)
		reviewAs(t, srv, "ci-bot", 1, "APPROVE")
		before := branchesOf(t, bare)
		out := reconcileGH(t, cfg)
		refsUnmoved(t, srv, bare, before)
		if !strings.Contains(out, "0 of 1 approval(s)") || !strings.Contains(out, "ci-bot: a check reporter (forge.check_reporters) never approves") {
			t.Fatalf("%s", out)
		}
	})
}

// Issue 32, rule 2 on GitHub: the last-push rule holds for a head whose tree did not
// change but whose hash did. Mallory re-wraps the armor of the remediator's own
// signature (still valid, same tree, same author and committer: a new hash),
// force-pushes it and approves it.
func TestGateBypassesOnGitHubRewrappedHead(t *testing.T) {
	cfg, srv, bare := ghProposed(t, nil, func(*runbooks.Runbook, *runbooks.Policy) {})
	pr := srv.PullRequests("acme", "infra")[0]
	work := t.TempDir() + "/w"
	url := strings.Replace(srv.URL, "http://", "http://x:mallory-token@", 1) + "/acme/infra.git"
	gittest.Run(t, "", "clone", "-q", "-b", pr.Head, url, work)
	raw := gittest.Run(t, work, "cat-file", "commit", "HEAD")
	rewrapped := rewrapSignature(t, raw)
	obj := t.TempDir() + "/commit"
	writeFile(t, obj, rewrapped)
	sha := gittest.Run(t, work, "hash-object", "-t", "commit", "-w", obj)
	if sha == pr.HeadSHA || gittest.Run(t, work, "rev-parse", sha+"^{tree}") != gittest.Run(t, work, "rev-parse", "HEAD^{tree}") {
		t.Fatalf("not a new hash of the same tree: %s", sha)
	}
	gittest.Run(t, work, "push", "-q", "-f", "origin", sha+":refs/heads/"+pr.Head)
	if got := srv.PullRequests("acme", "infra")[0].HeadSHA; got != sha {
		t.Fatalf("the force-push did not move the head: %s", got)
	}
	reviewAs(t, srv, "mallory", 1, "APPROVE")
	before := branchesOf(t, bare)
	out := reconcileGH(t, cfg)
	refsUnmoved(t, srv, bare, before)
	if !strings.Contains(out, "0 of 1 approval(s)") || !strings.Contains(out, "mallory: the pull request's author or a pusher") {
		t.Fatalf("%s", out)
	}
	// Another writer's approval of the re-wrapped head counts; alice's of the old
	// hash would not have.
	reviewAs(t, srv, "alice", 1, "APPROVE")
	if out := reconcileGH(t, cfg); !strings.Contains(out, "merged: ") {
		t.Fatalf("%s", out)
	}
}

// rewrapSignature re-wraps the base64 lines of a raw commit's gpgsig header at 60
// columns: the signature is unchanged, the commit's bytes (and hash) are not.
func rewrapSignature(t *testing.T, raw string) string {
	t.Helper()
	lines := strings.Split(raw, "\n")
	var out, b64 []string
	in := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "gpgsig -----BEGIN SSH SIGNATURE-----"):
			in = true
			out = append(out, l)
		case in && strings.HasPrefix(l, " -----END SSH SIGNATURE-----"):
			joined := strings.Join(b64, "")
			for len(joined) > 60 {
				out = append(out, " "+joined[:60])
				joined = joined[60:]
			}
			out = append(out, " "+joined, l)
			in = false
		case in:
			b64 = append(b64, strings.TrimSpace(l))
		default:
			out = append(out, l)
		}
	}
	if len(b64) == 0 {
		t.Fatalf("no SSH signature in the commit:\n%s", raw)
	}
	return strings.Join(out, "\n") + "\n"
}
