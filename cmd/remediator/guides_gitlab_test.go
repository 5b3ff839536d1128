package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegitlab"
)

// TestGuideGitLab runs docs/guides/getting-started-gitlab.md, every block in order,
// against the GitLab test server: what the guide says happens, happens, on GitLab.
func TestGuideGitLab(t *testing.T) {
	const you, bot, ci = "glpat-guideReaderToken01", "glpat-guideRemediator01", "glpat-guideCIUserToken01"
	srv := fakegitlab.New(t)
	srv.AddUser("you", you)
	srv.AddUser("remediator", bot)
	srv.AddUser("ci", ci)
	srv.CreateProject("acme/infra", nil)
	srv.CreateProject("acme/remediation-catalog", nil)
	srv.SetMember("acme/infra", "you", fakegitlab.Developer)
	srv.SetMember("acme/infra", "remediator", fakegitlab.Maintainer)
	srv.SetMember("acme/infra", "ci", fakegitlab.Developer)
	srv.SetMember("acme/remediation-catalog", "you", fakegitlab.Developer)
	srv.SetMember("acme/remediation-catalog", "remediator", fakegitlab.Reporter)
	srv.SetGroupMember("acme/sre", "you", fakegitlab.Developer)
	srv.Configure("acme/infra", fakegitlab.Settings{ApprovalsRequired: 1, CommittersCannotApprove: true, ResetOnPush: true})
	addr := freeAddr(t)
	const secret = "5e1f2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	srv.Hook("acme/infra", "http://"+addr+"/v1/gitlab", secret)

	firingUntilMerged := func() bool {
		mrs := srv.MergeRequests("acme/infra")
		return len(mrs) == 0 || mrs[0].State != "merged"
	}
	n, out := runGuideWith(t, "getting-started-gitlab.md", guideRun{
		swaps: map[string]string{
			"https://gitlab.example.com": srv.URL,
			"127.0.0.1:9093":             fakeAlertmanager(t, firingUntilMerged), "127.0.0.1:8080": addr,
		},
		env:  []string{"GITLAB_TOKEN=" + you, "REMEDIATOR_TOKEN=" + bot, "CI_TOKEN=" + ci},
		logs: []string{"remediation/serve.log"},
		prepare: func(home string) {
			writeFile(t, filepath.Join(home, "remediation", "webhook-secret"), secret+"\n")
		},
	})
	t.Logf("getting-started-gitlab.md: %d blocks ran", n)
	for _, want := range []string{
		"approvals required: 1,", "merge request !1: remediation/scale-out-api-", "plan-check: passed",
		"replicas      = 8", "merged, being verified (1)", "soaking since",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the guide's output lacks %q", want)
		}
	}
	mrs := srv.MergeRequests("acme/infra")
	if len(mrs) != 1 || mrs[0].State != "merged" || mrs[0].Author != "remediator" {
		t.Fatalf("merge requests after the guide: %+v", mrs)
	}
	refused := 0
	for _, d := range srv.Deliveries() {
		if d.Status != 202 {
			refused++
		}
	}
	if refused > 0 {
		t.Fatalf("%d webhook deliveries refused: %+v", refused, srv.Deliveries())
	}
}
