package fakegithub_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Replays @octokit/fixtures' create-status recording to its end: two statuses, then
// the combined status, whose state, count and object keys must be as recorded.
func TestCombinedStatusAsRecorded(t *testing.T) {
	recs := fakegithub.Fixtures(t, "create-status")
	rec := recs[len(recs)-1]
	s := newServer(t, 0)
	sha := gittest.Run(t, filepath.Join(s.Root(), "octokit-fixture-org", "repo.git"), "rev-parse", "main")
	base := "/repos/octokit-fixture-org/repo/"
	if a := call(t, s, "GET", base+"commits/"+sha+"/status", ""); a.status != 200 || !json.Valid(a.body) {
		t.Fatalf("no status yet: %d %s", a.status, a.body)
	} else if got := decodeMap(t, a.body); got["state"] != "pending" || got["total_count"] != 0.0 {
		t.Errorf("nothing reported: state %v count %v, want pending 0 (GitHub: none reported is pending)", got["state"], got["total_count"])
	}
	call(t, s, "POST", base+"statuses/"+sha, `{"state":"failure","target_url":"https://example.com","description":"create-status failure test","context":"example/1"}`)
	call(t, s, "POST", base+"statuses/"+sha, `{"state":"success","target_url":"https://example.com","description":"create-status success test","context":"example/2"}`)
	a := call(t, s, "GET", base+"commits/main/status", "")
	got, want := decodeMap(t, a.body), decodeMap(t, rec.Response)
	if a.status != rec.Status || got["state"] != want["state"] || got["total_count"] != want["total_count"] {
		t.Fatalf("combined status %d %v %v, recorded %d %v %v", a.status, got["state"], got["total_count"], rec.Status, want["state"], want["total_count"])
	}
	if fmt.Sprint(keys(got)) != fmt.Sprint(keys(want)) {
		t.Errorf("keys %v, recorded %v", keys(got), keys(want))
	}
	gs, ws := got["statuses"].([]any)[0].(map[string]any), want["statuses"].([]any)[0].(map[string]any)
	if fmt.Sprint(shape(gs)) != fmt.Sprint(shape(ws)) {
		t.Errorf("status shape %v, recorded %v", shape(gs), shape(ws))
	}
	// A newer status for a context replaces the older one in the combined state.
	call(t, s, "POST", base+"statuses/"+sha, `{"state":"success","context":"example/1"}`)
	if got := decodeMap(t, call(t, s, "GET", base+"commits/"+sha+"/status", "").body); got["state"] != "success" || got["total_count"] != 2.0 {
		t.Errorf("after example/1 turned green: %v %v, want success 2", got["state"], got["total_count"])
	}
}

func decodeMap(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return m
}

func TestCheckRunsLatestPerName(t *testing.T) {
	s := newServer(t, 0)
	sha := gittest.Run(t, filepath.Join(s.Root(), "octokit-fixture-org", "repo.git"), "rev-parse", "main")
	s.CheckRun("octokit-fixture-org", "repo", sha, "plan", "completed", "failure")
	s.CheckRun("octokit-fixture-org", "repo", sha, "plan", "completed", "success") // re-run
	s.CheckRun("octokit-fixture-org", "repo", sha, "lint", "in_progress", "")
	path := "/repos/octokit-fixture-org/repo/commits/" + sha + "/check-runs"
	var got struct {
		Total int `json:"total_count"`
		Runs  []struct {
			Name       string  `json:"name"`
			Status     string  `json:"status"`
			Conclusion *string `json:"conclusion"`
		} `json:"check_runs"`
	}
	if err := json.Unmarshal(call(t, s, "GET", path, "").body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Total != 2 || len(got.Runs) != 2 {
		t.Fatalf("latest runs: %+v, want one per name", got)
	}
	byName := map[string]string{}
	for _, r := range got.Runs {
		c := "null"
		if r.Conclusion != nil {
			c = *r.Conclusion
		}
		byName[r.Name] = r.Status + "/" + c
	}
	if byName["plan"] != "completed/success" || byName["lint"] != "in_progress/null" {
		t.Errorf("runs %v", byName)
	}
	if err := json.Unmarshal(call(t, s, "GET", path+"?filter=all", "").body, &got); err != nil || got.Total != 3 {
		t.Errorf("filter=all: %d runs (%v), want 3", got.Total, err)
	}
}

func TestTeamMembership(t *testing.T) {
	s := newServer(t, 0)
	s.AddTeamMember("platform", "sre", "alice")
	if a := call(t, s, "GET", "/orgs/platform/teams/sre/memberships/alice", ""); a.status != 200 || decodeMap(t, a.body)["state"] != "active" {
		t.Errorf("member: %d %s", a.status, a.body)
	}
	for _, path := range []string{"/orgs/platform/teams/sre/memberships/mallory", "/orgs/platform/teams/dba/memberships/alice"} {
		if a := call(t, s, "GET", path, ""); a.status != 404 {
			t.Errorf("%s: %d, want 404", path, a.status)
		}
	}
}

// Webhooks arrive in order, signed so that go-github's ValidatePayload (what serve
// uses) accepts them with the secret and refuses them with another.
func TestWebhooksSignedInOrder(t *testing.T) {
	var mu sync.Mutex
	var events []string
	var bodies [][]byte
	var sigs []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		mu.Lock()
		events = append(events, r.Header.Get("X-GitHub-Event"))
		bodies = append(bodies, data)
		sigs = append(sigs, r.Header.Get("X-Hub-Signature-256"))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rcv.Close()
	s := newServer(t, 1)
	s.Hook(rcv.URL, "s3cret")
	sha := s.PullRequests("octokit-fixture-org", "repo")[0].HeadSHA
	s.Review("octokit-fixture-org", "repo", 1, "alice", "APPROVED", sha, time.Now())
	s.CheckRun("octokit-fixture-org", "repo", sha, "plan", "completed", "success")
	call(t, s, "POST", "/repos/octokit-fixture-org/repo/statuses/"+sha, `{"state":"success","context":"ci"}`)
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Deliveries()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(events) != "[pull_request_review check_run status]" {
		t.Fatalf("events %v", events)
	}
	for i, d := range s.Deliveries() {
		if d.Status != http.StatusAccepted || d.Err != nil {
			t.Errorf("delivery %d: %+v", i, d)
		}
		if err := gh.ValidateSignature(sigs[i], bodies[i], []byte("s3cret")); err != nil {
			t.Errorf("%s: signature refused with the right secret: %v", events[i], err)
		}
		if gh.ValidateSignature(sigs[i], bodies[i], []byte("other")) == nil {
			t.Errorf("%s: signature accepted with a wrong secret", events[i])
		}
	}
	var review struct {
		Action string `json:"action"`
		Review struct {
			State    string `json:"state"`
			CommitID string `json:"commit_id"`
		} `json:"review"`
		PullRequest struct {
			Number int `json:"number"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(bodies[0], &review); err != nil || review.Action != "submitted" || review.Review.State != "approved" ||
		review.Review.CommitID != sha || review.PullRequest.Number != 1 {
		t.Errorf("review payload %+v (%v)", review, err)
	}
}
