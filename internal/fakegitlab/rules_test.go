package fakegitlab_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// TestApprovalRulesAreGitLabs: who GitLab lets approve, by the project's settings.
func TestApprovalRulesAreGitLabs(t *testing.T) {
	cases := []struct {
		name  string
		set   fakegitlab.Settings
		login string
		level int
		ok    bool
	}{
		{"a developer approves", fakegitlab.Settings{}, "bob", fakegitlab.Developer, true},
		{"a reporter does not", fakegitlab.Settings{}, "bob", fakegitlab.Reporter, false},
		{"a guest does not", fakegitlab.Settings{}, "bob", fakegitlab.Guest, false},
		{"the author does not by default", fakegitlab.Settings{}, "remediator", fakegitlab.Maintainer, false},
		{"the author does where the project allows it", fakegitlab.Settings{AuthorCanApprove: true}, "remediator", fakegitlab.Maintainer, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.Configure("acme/infra", tc.set)
			e.srv.AddUser("bob", "btoken")
			if tc.login == "bob" {
				e.srv.SetMember("acme/infra", "bob", tc.level)
			}
			err := e.srv.Approve("acme/infra", 1, tc.login)
			if (err == nil) != tc.ok {
				t.Fatalf("approve: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestAPushMakesAVersionAndMayResetApprovals: a push is a new version dated by the
// server, recorded as the pusher's push event; approvals go when the project says so.
func TestAPushMakesAVersionAndMayResetApprovals(t *testing.T) {
	for _, reset := range []bool{false, true} {
		e := newEnv(t)
		e.srv.Configure("acme/infra", fakegitlab.Settings{ResetOnPush: reset})
		e.srv.AddUser("mallory", "mtoken")
		e.srv.SetMember("acme/infra", "mallory", fakegitlab.Developer)
		dir := filepath.Join(e.srv.Root(), "acme/infra.git")
		sha := branch(t, dir, "x", "main.tf", "# mallory\n")
		e.srv.Push("acme/infra", "mallory", "remediation/a", sha)
		var versions []struct {
			Head string `json:"head_commit_sha"`
		}
		_ = json.Unmarshal(e.api(t, "GET", "/projects/acme%2Finfra/merge_requests/1/versions", "", 200), &versions)
		if len(versions) != 2 || versions[0].Head != sha {
			t.Fatalf("versions %+v, want the push newest", versions)
		}
		var approvals struct {
			By []any `json:"approved_by"`
		}
		_ = json.Unmarshal(e.api(t, "GET", "/projects/acme%2Finfra/merge_requests/1/approvals", "", 200), &approvals)
		if want := map[bool]int{false: 1, true: 0}[reset]; len(approvals.By) != want {
			t.Fatalf("reset %v: %d approvals, want %d", reset, len(approvals.By), want)
		}
		events := string(e.api(t, "GET", "/projects/acme%2Finfra/events?action=pushed", "", 200))
		if !strings.Contains(events, `"author_username":"mallory"`) || !strings.Contains(events, sha) {
			t.Fatalf("no push event by mallory: %s", events)
		}
	}
}

// TestMergeNamesTheHead: GitLab's answers to a merge: 409 when sha is not the head,
// 405 when not mergeable, and a merge commit with the message given.
func TestMergeNamesTheHead(t *testing.T) {
	e := newEnv(t)
	head := e.srv.MergeRequests("acme/infra")[0].SHA
	e.api(t, http.MethodPut, "/projects/acme%2Finfra/merge_requests/1/merge", `{"sha":"`+strings.Repeat("0", 40)+`"}`, http.StatusConflict)
	e.srv.Configure("acme/infra", fakegitlab.Settings{ApprovalsRequired: 2})
	e.api(t, http.MethodPut, "/projects/acme%2Finfra/merge_requests/1/merge", `{"sha":"`+head+`"}`, http.StatusMethodNotAllowed)
	e.srv.Configure("acme/infra", fakegitlab.Settings{ApprovalsRequired: 1})
	e.api(t, http.MethodPut, "/projects/acme%2Finfra/merge_requests/1/merge",
		`{"sha":"`+head+`","squash":false,"merge_commit_message":"m\n\nRemediation-Id: x"}`, http.StatusOK)
	mr := e.srv.MergeRequests("acme/infra")[0]
	dir := filepath.Join(e.srv.Root(), "acme/infra.git")
	if mr.State != "merged" || gittest.Run(t, dir, "rev-parse", "main") != mr.MergeSHA ||
		gittest.Run(t, dir, "rev-parse", mr.MergeSHA+"^2") != head || !strings.Contains(gittest.Run(t, dir, "log", "-1", "--format=%B", mr.MergeSHA), "Remediation-Id: x") {
		t.Fatalf("merge request %+v: want merged at its head with the message given", mr)
	}
	e.api(t, http.MethodPut, "/projects/acme%2Finfra/merge_requests/1/merge", `{"sha":"`+head+`"}`, http.StatusMethodNotAllowed)
}
