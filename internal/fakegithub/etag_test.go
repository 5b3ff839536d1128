package fakegithub

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// The server answers 304 exactly where GitHub's OpenAPI description documents one,
// among the GET routes it serves.
func TestNotModifiedOnlyWhereDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(Octokit(t), "openapi", "generated", "api.github.com.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	served := (&Server{}).routeSet()
	served = append(served, "/user")
	for _, route := range served {
		get, ok := doc.Paths[route]["get"]
		if !ok {
			continue
		}
		_, documented := get.Responses["304"]
		if documented != notModifiedRoutes[route] {
			t.Errorf("GET %s: GitHub documents a 304: %v; the server answers one: %v", route, documented, notModifiedRoutes[route])
		}
	}
	for route := range notModifiedRoutes {
		if _, ok := doc.Paths[route]["get"].Responses["304"]; !ok {
			t.Errorf("GET %s: answered 304 but GitHub documents none", route)
		}
	}
}

// reply is what a test reads of an answer: its body is closed by call.
type reply struct {
	StatusCode int
	Header     http.Header
}

func call(t *testing.T, s *Server, path, token, inm string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v3"+path, nil)
	req.Header.Set("Authorization", "token "+token)
	if inm != "" {
		req.Header.Set("If-None-Match", inm)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return reply{StatusCode: resp.StatusCode, Header: resp.Header}
}

// Weak ETags vary by token; a matching If-None-Match gets a 304 that does not
// spend the rate limit, and is counted apart; a route GitHub documents no 304 for
// answers in full whatever it is sent.
func TestETagsAndNotModified(t *testing.T) {
	s := New(t)
	s.AddToken("ta", "alice")
	s.AddToken("tb", "bob")
	s.CreateRepo("acme", "infra", map[string]string{"a.txt": "a\n"})
	t.Cleanup(func() { s.CheckSpec(t) })

	first := call(t, s, "/repos/acme/infra/pulls", "ta", "")
	etag := first.Header.Get("ETag")
	if len(etag) < 4 || etag[:3] != `W/"` {
		t.Fatalf("ETag %q is not weak", etag)
	}
	if other := call(t, s, "/repos/acme/infra/pulls", "tb", "").Header.Get("ETag"); other == etag {
		t.Fatal("two tokens got the same ETag")
	}
	again := call(t, s, "/repos/acme/infra/pulls", "ta", etag)
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("matching If-None-Match: %d, want 304", again.StatusCode)
	}
	if got, want := again.Header.Get("X-RateLimit-Remaining"), first.Header.Get("X-RateLimit-Remaining"); got != want {
		t.Fatalf("a 304 spent the rate limit: remaining %s after, %s before", got, want)
	}
	if s.NotModified() != 1 || s.Counted() != 2 {
		t.Fatalf("304s %d, counted %d; want 1 and 2", s.NotModified(), s.Counted())
	}
	if call(t, s, "/repos/acme/infra/pulls", "tb", etag).StatusCode != http.StatusOK {
		t.Fatal("one token's ETag was honoured for another")
	}
	user := call(t, s, "/user", "ta", "")
	if call(t, s, "/user", "ta", user.Header.Get("ETag")).StatusCode != http.StatusNotModified {
		t.Fatal("GET /user: no 304")
	}
}

// A 304 carries no Link: GitHub's description of a 304 names no header, and a
// page's ETag covers its body, not its Link, so a client must not rely on one.
func TestNotModifiedCarriesNoLink(t *testing.T) {
	s := New(t)
	s.AddToken("ta", "alice")
	dir := s.CreateRepo("acme", "infra", map[string]string{"a.txt": "a\n"})
	t.Cleanup(func() { s.CheckSpec(t) })
	for _, branch := range []string{"b1", "b2", "b3"} {
		gittest.Run(t, dir, "update-ref", "refs/heads/"+branch, "refs/heads/main")
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v3/repos/acme/infra/pulls",
			strings.NewReader(`{"title":"t","head":"`+branch+`","base":"main","body":"b"}`))
		req.Header.Set("Authorization", "token ta")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("open %s: %v %v", branch, resp, err)
		}
		_ = resp.Body.Close()
	}
	const page1 = "/repos/acme/infra/pulls?state=open&per_page=2&page=1"
	first := call(t, s, page1, "ta", "")
	if !strings.Contains(first.Header.Get("Link"), `rel="next"`) {
		t.Fatalf("the first of two pages names no next page: %q", first.Header.Get("Link"))
	}
	again := call(t, s, page1, "ta", first.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified || again.Header.Get("Link") != "" {
		t.Fatalf("revalidated: %d with Link %q, want 304 without one", again.StatusCode, again.Header.Get("Link"))
	}
}
