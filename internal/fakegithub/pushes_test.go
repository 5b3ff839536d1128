package fakegithub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// callAs sends a request with a token.
func callAs(t *testing.T, s *fakegithub.Server, token, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/v3"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: []byte(b.String())}
}

// pushAs commits a file on branch in a clone and pushes it over smart HTTP with
// the token, as a person with push access does; it returns the new head.
func pushAs(t *testing.T, s *fakegithub.Server, token, repo, branch, email, file, content string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	url := strings.Replace(s.URL, "http://", "http://x:"+token+"@", 1) + "/" + repo + ".git"
	gittest.Run(t, "", "clone", "-q", "-b", branch, url, work)
	gittest.WriteFile(t, filepath.Join(work, file), content)
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-q", "--author", "someone <"+email+">", "-m", "a person's change")
	gittest.Run(t, work, "push", "-q", "origin", branch)
	return gittest.Run(t, work, "rev-parse", "HEAD")
}

// hooked records the server's deliveries.
func hooked(t *testing.T, s *fakegithub.Server) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	t.Cleanup(rcv.Close)
	s.Hook(rcv.URL, "s3cret")
}

func waitDeliveries(t *testing.T, s *fakegithub.Server, n int) []fakegithub.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Deliveries()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	d := s.Deliveries()
	if len(d) < n {
		t.Fatalf("%d deliveries, want %d", len(d), n)
	}
	return d
}

// GitHub: a push to a pull request's branch moves its head, keeps earlier reviews
// with their commit_id, and sends pull_request "synchronize" with before and after.
func TestPushMovesTheHead(t *testing.T) {
	s := newServer(t, 1)
	s.AddToken("bob-token", "bob")
	s.AddEmail("bob", "bob@example.com")
	hooked(t, s)
	before := s.PullRequests("octokit-fixture-org", "repo")[0].HeadSHA
	if a := callAs(t, s, "bob-token", "/repos/octokit-fixture-org/repo/pulls/1/reviews", fmt.Sprintf(`{"event":"APPROVE","commit_id":%q}`, before)); a.status != 200 {
		t.Fatalf("review: %d %s", a.status, a.body)
	}
	after := pushAs(t, s, "t0k", "octokit-fixture-org/repo", "b1", "bob@example.com", "new.txt", "x\n")
	if got := s.PullRequests("octokit-fixture-org", "repo")[0].HeadSHA; got != after || got == before {
		t.Fatalf("head %s after the push to %s", got, after)
	}
	d := waitDeliveries(t, s, 2)
	var sync struct {
		Action, Before, After string
		PullRequest           struct{ Head struct{ SHA string } } `json:"pull_request"`
	}
	if err := json.Unmarshal(d[1].Body, &sync); err != nil || d[1].Event != "pull_request" || sync.Action != "synchronize" ||
		sync.Before != before || sync.After != after || sync.PullRequest.Head.SHA != after {
		t.Fatalf("delivery %s %s (%v)", d[1].Event, d[1].Body[:min(200, len(d[1].Body))], err)
	}
	// The earlier review keeps its commit.
	a := call(t, s, "GET", "/repos/octokit-fixture-org/repo/pulls/1/reviews", "")
	var reviews []struct {
		State    string `json:"state"`
		CommitID string `json:"commit_id"`
	}
	if err := json.Unmarshal(a.body, &reviews); err != nil || len(reviews) != 1 || reviews[0].CommitID != before || reviews[0].State != "APPROVED" {
		t.Fatalf("reviews after the push: %s", a.body)
	}
	// The pull request's commits name bob's account by his email.
	a = call(t, s, "GET", "/repos/octokit-fixture-org/repo/pulls/1/commits", "")
	if a.status != 200 || !strings.Contains(string(a.body), `"login":"bob"`) {
		t.Fatalf("commits: %d %s", a.status, a.body)
	}
}

// Branch protection with dismiss_stale_reviews: a push dismisses approvals.
func TestProtectionDismissesStaleReviewsAndGatesTheMerge(t *testing.T) {
	s := newServer(t, 1)
	s.AddToken("bob-token", "bob")
	s.Protect("octokit-fixture-org", "repo", fakegithub.Protection{RequiredApprovals: 1, DismissStaleReviews: true, RequireLastPushApproval: true})
	head := s.PullRequests("octokit-fixture-org", "repo")[0].HeadSHA
	merge := func(sha string) answer {
		return call(t, s, "PUT", "/repos/octokit-fixture-org/repo/pulls/1/merge", fmt.Sprintf(`{"sha":%q}`, sha))
	}
	if a := merge(head); a.status != 405 || !strings.Contains(string(a.body), "approving review is required") {
		t.Fatalf("merge without review: %d %s", a.status, a.body)
	}
	callAs(t, s, "bob-token", "/repos/octokit-fixture-org/repo/pulls/1/reviews", `{"event":"APPROVE"}`)
	newHead := pushAs(t, s, "t0k", "octokit-fixture-org/repo", "b1", "someone@example.com", "n.txt", "n\n")
	a := call(t, s, "GET", "/repos/octokit-fixture-org/repo/pulls/1/reviews", "")
	if !strings.Contains(string(a.body), `"state":"DISMISSED"`) {
		t.Fatalf("stale review not dismissed: %s", a.body)
	}
	if a := merge(newHead); a.status != 405 {
		t.Fatalf("merged on a dismissed review: %d %s", a.status, a.body)
	}
	// The last pusher's own approval does not satisfy require_last_push_approval.
	s.AddToken("pusher-token", "someone-else")
	pushAs(t, s, "bob-token", "octokit-fixture-org/repo", "b1", "bob@example.com", "m.txt", "m\n")
	callAs(t, s, "bob-token", "/repos/octokit-fixture-org/repo/pulls/1/reviews", `{"event":"APPROVE"}`)
	head = s.PullRequests("octokit-fixture-org", "repo")[0].HeadSHA
	if a := merge(head); a.status != 405 {
		t.Fatalf("the last pusher's approval satisfied the rule: %d %s", a.status, a.body)
	}
	callAs(t, s, "pusher-token", "/repos/octokit-fixture-org/repo/pulls/1/reviews", `{"event":"APPROVE"}`)
	if a := merge(head); a.status != 200 {
		t.Fatalf("merge with another's approval: %d %s", a.status, a.body)
	}
}

// GitHub's review rules: the author cannot approve (422), the commit must be the
// pull request's (422), and a dismissal changes the review's state.
func TestReviewRules(t *testing.T) {
	s := newServer(t, 1) // opened by "someone"
	s.AddToken("alice-token", "alice")
	if a := call(t, s, "POST", "/repos/octokit-fixture-org/repo/pulls/1/reviews", `{"event":"APPROVE"}`); a.status != 422 || !strings.Contains(string(a.body), "Can not approve your own pull request") {
		t.Fatalf("author's approval: %d %s", a.status, a.body)
	}
	if a := callAs(t, s, "alice-token", "/repos/octokit-fixture-org/repo/pulls/1/reviews", `{"event":"APPROVE","commit_id":"0000000000000000000000000000000000000001"}`); a.status != 422 {
		t.Fatalf("foreign commit: %d %s", a.status, a.body)
	}
	a := callAs(t, s, "alice-token", "/repos/octokit-fixture-org/repo/pulls/1/reviews", `{"event":"APPROVE"}`)
	var rv struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
	}
	if err := json.Unmarshal(a.body, &rv); err != nil || rv.State != "APPROVED" {
		t.Fatalf("review: %d %s", a.status, a.body)
	}
	a = call(t, s, "PUT", fmt.Sprintf("/repos/octokit-fixture-org/repo/pulls/1/reviews/%d/dismissals", rv.ID), `{"message":"stale"}`)
	if a.status != 200 || !strings.Contains(string(a.body), `"state":"DISMISSED"`) {
		t.Fatalf("dismissal: %d %s", a.status, a.body)
	}
	a = call(t, s, "GET", "/repos/octokit-fixture-org/repo/pulls/1/reviews", "")
	if strings.Count(string(a.body), `"node_id":"PRR_`) != 1 || !strings.Contains(string(a.body), `"state":"DISMISSED"`) {
		t.Fatalf("a dismissal must change the review, not add one: %s", a.body)
	}
}

// A pull request from a fork names the fork as head.repo.
func TestForkPullRequest(t *testing.T) {
	s := newServer(t, 0)
	s.AddToken("mallory-token", "mallory")
	fork := s.CreateFork("octokit-fixture-org", "repo", "mallory")
	gittest.Run(t, fork, "update-ref", "refs/heads/feature", "refs/heads/main")
	pushAs(t, s, "mallory-token", "mallory/repo", "feature", "m@example.com", "f.txt", "f\n")
	a := callAs(t, s, "mallory-token", "/repos/octokit-fixture-org/repo/pulls", `{"title":"from a fork","head":"mallory:feature","base":"main"}`)
	var pr struct {
		Head struct {
			Repo struct {
				FullName string `json:"full_name"`
				Fork     bool   `json:"fork"`
			} `json:"repo"`
		} `json:"head"`
		User struct{ Login string } `json:"user"`
	}
	if err := json.Unmarshal(a.body, &pr); err != nil || a.status != 201 || pr.Head.Repo.FullName != "mallory/repo" || !pr.Head.Repo.Fork || pr.User.Login != "mallory" {
		t.Fatalf("fork pull request: %d %s", a.status, a.body)
	}
	if a := call(t, s, "GET", "/repos/octokit-fixture-org/repo/pulls?head=mallory:feature", ""); !strings.Contains(string(a.body), `"full_name":"mallory/repo"`) {
		t.Fatalf("listed by head: %s", a.body)
	}
}

// merge_method squash makes one commit with one parent.
func TestSquashMerge(t *testing.T) {
	s := newServer(t, 1)
	pushAs(t, s, "t0k", "octokit-fixture-org/repo", "b1", "someone@example.com", "s.txt", "s\n")
	head := s.PullRequests("octokit-fixture-org", "repo")[0].HeadSHA
	a := call(t, s, "PUT", "/repos/octokit-fixture-org/repo/pulls/1/merge", fmt.Sprintf(`{"sha":%q,"merge_method":"squash","commit_title":"squashed"}`, head))
	if a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	dir := filepath.Join(s.Root(), "octokit-fixture-org", "repo.git")
	if parents := strings.Fields(gittest.Run(t, dir, "log", "-1", "--format=%P", "main")); len(parents) != 1 {
		t.Fatalf("squash merge has %d parents", len(parents))
	}
	if got := gittest.Run(t, dir, "show", "main:s.txt"); got != "s" {
		t.Fatalf("squash lost the change: %q", got)
	}
}

// GET /user names the token's owner.
func TestAuthenticatedUser(t *testing.T) {
	s := newServer(t, 0)
	if a := call(t, s, "GET", "/user", ""); a.status != 200 || !strings.Contains(string(a.body), `"login":"someone"`) {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

// A team review can be requested only from a team that exists (GitHub's 422).
func TestTeamReviewRequestsNeedTheTeam(t *testing.T) {
	s := newServer(t, 1)
	if a := call(t, s, "POST", "/repos/octokit-fixture-org/repo/pulls/1/requested_reviewers", `{"team_reviewers":["ghosts"]}`); a.status != 422 {
		t.Fatalf("a team that does not exist: %d %s", a.status, a.body)
	}
	s.AddTeam("octokit-fixture-org", "sre")
	if a := call(t, s, "POST", "/repos/octokit-fixture-org/repo/pulls/1/requested_reviewers", `{"team_reviewers":["sre"]}`); a.status != 201 {
		t.Fatalf("an existing team: %d %s", a.status, a.body)
	}
}

// merge_method rebase replays the commits on the base: no merge commit.
func TestRebaseMerge(t *testing.T) {
	s := newServer(t, 1)
	pushAs(t, s, "t0k", "octokit-fixture-org/repo", "b1", "someone@example.com", "r1.txt", "1\n")
	pushAs(t, s, "t0k", "octokit-fixture-org/repo", "b1", "someone@example.com", "r2.txt", "2\n")
	dir := filepath.Join(s.Root(), "octokit-fixture-org", "repo.git")
	before := gittest.Run(t, dir, "rev-parse", "main")
	head := s.PullRequests("octokit-fixture-org", "repo")[0].HeadSHA
	if a := call(t, s, "PUT", "/repos/octokit-fixture-org/repo/pulls/1/merge", fmt.Sprintf(`{"sha":%q,"merge_method":"rebase"}`, head)); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if n := gittest.Run(t, dir, "rev-list", "--count", before+"..main"); n != "2" {
		t.Fatalf("%s commits replayed, want 2", n)
	}
	if merges := gittest.Run(t, dir, "rev-list", "--count", "--merges", before+"..main"); merges != "0" {
		t.Fatalf("%s merge commits after a rebase merge", merges)
	}
}
