package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Issue 32, rule 5: `audit verify` checks provenance on GitHub on its own. A merge
// on the base's first-parent line with remediation trailers is the remediator's only
// when its sealed intent binds the merge's parents and tree; the remediator's records
// of reviews prove approvals, not who merged.
func TestGateBypassesOnGitHubAudit(t *testing.T) {
	// approvedButRefused: alice approves, the remediator records the approval and
	// seals its intent, and GitHub refuses the merge (branch protection).
	approvedButRefused := func(t *testing.T) (cfg string, srv *fakegithub.Server, bare string) {
		cfg, srv, bare = ghProposed(t, nil, func(*runbooks.Runbook, *runbooks.Policy) {})
		reviewAs(t, srv, "alice", 1, "APPROVE")
		srv.Inject(fakegithub.Fault{Method: http.MethodPut, Route: "/repos/{owner}/{repo}/pulls/{pull_number}/merge", Status: http.StatusMethodNotAllowed,
			Body: []byte(`{"message":"Required status check \"security-scan\" is expected.","documentation_url":"https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"}`)})
		if out := reconcileGH(t, cfg); !strings.Contains(out, "the forge refuses to merge") {
			t.Fatalf("%s", out)
		}
		return cfg, srv, bare
	}
	t.Run("a merge by hand of the sealed head, with more in the merge's tree", func(t *testing.T) {
		cfg, srv, bare := approvedButRefused(t)
		pr := srv.PullRequests("acme", "infra")[0]
		work := t.TempDir() + "/w"
		url := strings.Replace(srv.URL, "http://", "http://x:mallory-token@", 1) + "/acme/infra.git"
		gittest.Run(t, "", "clone", "-q", url, work)
		gittest.Run(t, work, "fetch", "-q", "origin", pr.Head)
		msg := gittest.Run(t, work, "log", "-1", "--format=%B", pr.HeadSHA)
		title, _, _ := strings.Cut(msg, "\n")
		trailers := gittest.Run(t, work, "log", "-1", "--format=%(trailers:only,unfold)", pr.HeadSHA)
		gittest.Run(t, work, "-c", "user.name=mallory", "-c", "user.email=mallory@example.com", "merge", "-q", "--no-ff", "--no-commit", pr.HeadSHA)
		// More in the merge than the head: a second file, and the merge tree's
		// artifact made to record it.
		gittest.WriteFile(t, work+"/envs/api-second.auto.tfvars", "replicas      = 40\ninstance_type = \"m6i.large\"\n")
		artPath := strings.TrimSpace(gittest.Run(t, work, "diff", "--name-only", "HEAD", pr.HeadSHA, "--", ".remediations/"))
		art := gittest.Run(t, work, "show", pr.HeadSHA+":"+artPath)
		a, err := artifact.Decode([]byte(art + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		a.Changes = append(a.Changes, artifact.Change{File: "envs/api-second.auto.tfvars", Path: "replicas", From: "2", To: "40"})
		data, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		gittest.WriteFile(t, work+"/"+artPath, string(data))
		gittest.Run(t, work, "add", "-A")
		gittest.Run(t, work, "-c", "user.name=mallory", "-c", "user.email=mallory@example.com", "commit", "-q", "-m",
			"Merge remediation by hand\n\n"+title+"\n\n"+trailers+"\nApproved-by: alice\n")
		gittest.Run(t, work, "push", "-q", "origin", "HEAD:main")
		code, out, errs := cli(t, "audit", "verify", "--repository", bare, "--config", cfg)
		if code != 1 || !strings.Contains(out, "merge-not-by-remediator") {
			t.Fatalf("audit verify of a merge by hand: %d\nOUT:\n%s\nERR:\n%s", code, out, errs)
		}
	})
	t.Run("the merge intents deleted", func(t *testing.T) {
		cfg, srv, bare := ghProposed(t, nil, func(*runbooks.Runbook, *runbooks.Policy) {})
		reviewAs(t, srv, "alice", 1, "APPROVE")
		if out := reconcileGH(t, cfg); !strings.Contains(out, "merged: ") {
			t.Fatalf("%s", out)
		}
		if code, out, errs := cli(t, "audit", "verify", "--repository", bare, "--config", cfg); code != 0 {
			t.Fatalf("audit verify of the remediator's merge: %d %s %s", code, out, errs)
		}
		gittest.Run(t, bare, "update-ref", "-d", "refs/notes/remediation-merges")
		code, out, errs := cli(t, "audit", "verify", "--repository", bare, "--config", cfg)
		if code != 1 || !strings.Contains(out, "merge-not-by-remediator") {
			t.Fatalf("audit verify without the merge records: %d\n%s\n%s", code, out, errs)
		}
	})
}
