package fakegitlab_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// get sends one GET with the remediator's token and an optional If-None-Match.
func (e *env) get(t *testing.T, path, ifNoneMatch string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.srv.URL+"/api/v4"+path, nil)
	req.Header.Set("PRIVATE-TOKEN", "rtoken")
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), b
}

// TestConditionalRequestsAreCountedAsGitLabCountsThem: a GET answer carries a weak
// ETag of its body; If-None-Match with it is a 304 without a body until the answer
// changes; and every request counts, 304s included, as GitLab's rate limit counts.
func TestConditionalRequestsAreCountedAsGitLabCountsThem(t *testing.T) {
	e := newEnv(t)
	path := "/projects/acme%2Finfra/merge_requests/1/approvals"
	code, etag, body := e.get(t, path, "")
	if code != 200 || len(etag) < 4 || etag[:3] != `W/"` || len(body) == 0 {
		t.Fatalf("first read: %d etag %q body %d bytes", code, etag, len(body))
	}
	before, nm := e.srv.Requests(), e.srv.NotModified()
	code, again, body := e.get(t, path, etag)
	if code != http.StatusNotModified || again != etag || len(body) != 0 {
		t.Fatalf("unchanged: %d etag %q body %q, want 304 with the same etag and no body", code, again, body)
	}
	if e.srv.Requests() != before+1 || e.srv.NotModified() != nm+1 {
		t.Errorf("a 304 counted %d requests (%d 304s), want 1 (1)", e.srv.Requests()-before, e.srv.NotModified()-nm)
	}
	e.srv.Unapprove("acme/infra", 1, "alice")
	if code, changed, _ := e.get(t, path, etag); code != 200 || changed == etag {
		t.Errorf("changed: %d etag %q, want 200 with a new etag", code, changed)
	}
	if code, _, _ := e.get(t, "/projects/acme%2Finfra/merge_requests/99", etag); code != http.StatusNotFound {
		t.Errorf("a 404 answered %d to If-None-Match, want 404", code)
	}
}

// TestMergeRequestsListByUpdatedAt: order_by=updated_at lists the merge request a
// note touched first, and updated_after leaves out those not touched since.
func TestMergeRequestsListByUpdatedAt(t *testing.T) {
	e := newEnv(t)
	clock := time.Now().Add(time.Hour).Truncate(time.Second) // after newEnv's merge request
	e.srv.SetClock(func() time.Time { return clock })
	e.srv.OpenAs("acme/infra", "remediator", "remediation/a", "main", "second", "d")
	e.srv.OpenAs("acme/infra", "remediator", "remediation/a", "main", "third", "d")
	clock = clock.Add(time.Minute)
	e.srv.AddNote("acme/infra", 2, "alice", "a note touches its merge request")
	type mr struct {
		IID       int64     `json:"iid"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	list := func(query string) []int64 {
		_, _, b := e.get(t, "/projects/acme%2Finfra/merge_requests?"+query, "")
		var ms []mr
		if err := json.Unmarshal(b, &ms); err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, m := range ms {
			out = append(out, m.IID)
		}
		return out
	}
	if got := list("order_by=updated_at&sort=desc"); len(got) != 3 || got[0] != 2 {
		t.Errorf("by updated_at: %v, want !2 first", got)
	}
	if got := list("order_by=updated_at&sort=asc"); len(got) != 3 || got[2] != 2 {
		t.Errorf("by updated_at ascending: %v, want !2 last", got)
	}
	if got := list("updated_after=" + clock.Format(time.RFC3339)); len(got) != 1 || got[0] != 2 {
		t.Errorf("updated on or after the note: %v, want [2]", got)
	}
}
