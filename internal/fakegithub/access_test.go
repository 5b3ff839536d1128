package fakegithub_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// The collaborator permission endpoint answers each role as GitHub does: the legacy
// permission maps maintain to write and triage to read, role_name and the user's
// permissions say the role itself. The answers are checked against GitHub's
// description by the cleanup.
func TestCollaboratorPermissionPerRole(t *testing.T) {
	s := newServer(t, 0)
	cases := []struct{ role, permission, roleName, perms string }{
		{fakegithub.RoleRead, "read", "read", "pull"},
		{fakegithub.RoleTriage, "read", "triage", "pull triage"},
		{fakegithub.RoleWrite, "write", "write", "pull triage push"},
		{fakegithub.RoleMaintain, "write", "maintain", "pull triage push maintain"},
		{fakegithub.RoleAdmin, "admin", "admin", "pull triage push maintain admin"},
		{"", "none", "none", ""},
	}
	for i, c := range cases {
		login := fmt.Sprintf("user%d", i)
		s.SetRole(login, c.role)
		s.AddToken(login+"-token", login) // known to GitHub; the role stays as set
		a := call(t, s, "GET", "/repos/octokit-fixture-org/repo/collaborators/"+login+"/permission", "")
		var got struct {
			Permission string `json:"permission"`
			RoleName   string `json:"role_name"`
			User       struct {
				Permissions map[string]bool `json:"permissions"`
			} `json:"user"`
		}
		if err := json.Unmarshal(a.body, &got); err != nil || a.status != 200 {
			t.Fatalf("%s: %d %s", c.role, a.status, a.body)
		}
		var perms []string
		for _, p := range []string{"pull", "triage", "push", "maintain", "admin"} {
			if got.User.Permissions[p] {
				perms = append(perms, p)
			}
		}
		if got.Permission != c.permission || got.RoleName != c.roleName || strings.Join(perms, " ") != c.perms {
			t.Errorf("role %q: permission %q role_name %q permissions %v", c.role, got.Permission, got.RoleName, perms)
		}
	}
	if a := call(t, s, "GET", "/repos/octokit-fixture-org/repo/collaborators/nobody-at-all/permission", ""); a.status != 404 {
		t.Fatalf("an unknown account: %d %s", a.status, a.body)
	}
}

// Roles are enforced where GitHub enforces them: a reader reviews, but cannot
// merge, set a status, dismiss a review, close someone else's pull request or push;
// a triager can close it.
func TestRolesEnforced(t *testing.T) {
	s := newServer(t, 1) // opened by "someone", a writer
	s.SetRole("rita", fakegithub.RoleRead)
	s.AddToken("rita-token", "rita")
	s.SetRole("tom", fakegithub.RoleTriage)
	s.AddToken("tom-token", "tom")
	head := s.PullRequests("octokit-fixture-org", "repo")[0].HeadSHA
	if a := callAs(t, s, "rita-token", "/repos/octokit-fixture-org/repo/pulls/1/reviews", `{"event":"REQUEST_CHANGES"}`); a.status != 200 {
		t.Fatalf("a reader's review: %d %s", a.status, a.body)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"PUT", "/repos/octokit-fixture-org/repo/pulls/1/merge", `{}`, 403},
		{"POST", "/repos/octokit-fixture-org/repo/statuses/" + head, `{"state":"success","context":"x"}`, 404},
		{"PATCH", "/repos/octokit-fixture-org/repo/pulls/1", `{"state":"closed"}`, 403},
		{"PATCH", "/repos/octokit-fixture-org/repo/pulls/1", `{"base":"main"}`, 403},
	} {
		if a := doAs(t, s, "rita-token", c.method, c.path, c.body); a.status != c.want {
			t.Errorf("reader %s %s: %d %s, want %d", c.method, c.path, a.status, a.body, c.want)
		}
	}
	if a := doAs(t, s, "tom-token", "PATCH", "/repos/octokit-fixture-org/repo/pulls/1", `{"state":"closed"}`); a.status != 200 {
		t.Fatalf("a triager closes: %d %s", a.status, a.body)
	}
	if a := pushFails(t, s, "rita-token"); !a {
		t.Fatal("a reader pushed")
	}
}

// The timeline names who closed, reopened, dismissed a review and force-pushed, in
// order; its events are checked against GitHub's description by the cleanup.
func TestTimelineNamesTheActors(t *testing.T) {
	s := newServer(t, 1)
	s.AddToken("alice-token", "alice")
	s.AddToken("bob-token", "bob")
	s.AddToken("mallory-token", "mallory")
	a := callAs(t, s, "bob-token", "/repos/octokit-fixture-org/repo/pulls/1/reviews", `{"event":"REQUEST_CHANGES"}`)
	var rv struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(a.body, &rv); err != nil {
		t.Fatal(err, string(a.body))
	}
	doAs(t, s, "alice-token", "PATCH", "/repos/octokit-fixture-org/repo/pulls/1", `{"state":"closed"}`)
	doAs(t, s, "mallory-token", "PATCH", "/repos/octokit-fixture-org/repo/pulls/1", `{"state":"open"}`)
	if a := doAs(t, s, "mallory-token", "PUT", fmt.Sprintf("/repos/octokit-fixture-org/repo/pulls/1/reviews/%d/dismissals", rv.ID), `{"message":"no"}`); a.status != 200 {
		t.Fatalf("dismissal: %d %s", a.status, a.body)
	}
	// A head re-made with the same tree (amended) and force-pushed by mallory.
	pushAs(t, s, "mallory-token", "octokit-fixture-org/repo", "b1", "mallory@example.com", "n.txt", "n\n")
	forcePushAmended(t, s, "mallory-token", "octokit-fixture-org/repo", "b1")
	a = call(t, s, "GET", "/repos/octokit-fixture-org/repo/issues/1/timeline", "")
	var events []struct {
		Event string `json:"event"`
		Actor struct {
			Login string `json:"login"`
		} `json:"actor"`
		DismissedReview *struct {
			State    string `json:"state"`
			ReviewID int64  `json:"review_id"`
		} `json:"dismissed_review"`
	}
	if err := json.Unmarshal(a.body, &events); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		s := e.Event + " by " + e.Actor.Login
		if d := e.DismissedReview; d != nil {
			s += fmt.Sprintf(" (%s %v)", d.State, d.ReviewID == rv.ID)
		}
		got = append(got, s)
	}
	want := "closed by alice; reopened by mallory; review_dismissed by mallory (changes_requested true); head_ref_force_pushed by mallory"
	if strings.Join(got, "; ") != want {
		t.Fatalf("timeline:\n%s\nwant\n%s", strings.Join(got, "; "), want)
	}
}

// doAs sends a request with a person's token.
func doAs(t *testing.T, s *fakegithub.Server, token, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+"/api/v3"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// clone clones the fixture repository with a token, on branch b1.
func clone(t *testing.T, s *fakegithub.Server, token, repo string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	url := strings.Replace(s.URL, "http://", "http://x:"+token+"@", 1) + "/" + repo + ".git"
	gittest.Run(t, "", "clone", "-q", "-b", "b1", url, work)
	return work
}

// pushFails says whether a push of a new commit with the token is refused.
func pushFails(t *testing.T, s *fakegithub.Server, token string) bool {
	t.Helper()
	work := clone(t, s, token, "octokit-fixture-org/repo")
	gittest.WriteFile(t, filepath.Join(work, "r.txt"), "r\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-q", "-m", "r")
	_, err := gittest.Output(work, "push", "-q", "origin", "b1")
	return err != nil
}

// forcePushAmended re-makes the head commit with the same tree (a new hash) and
// force-pushes it.
func forcePushAmended(t *testing.T, s *fakegithub.Server, token, repo, branch string) {
	t.Helper()
	work := clone(t, s, token, repo)
	gittest.Run(t, work, "commit", "-q", "--amend", "-m", "same tree, new hash")
	gittest.Run(t, work, "push", "-q", "-f", "origin", branch)
}
