package github

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// origin answers like GitHub: a weak ETag per credentials and body, 304 to a
// matching If-None-Match; body is what it serves now.
type origin struct {
	mu      sync.Mutex
	body    string
	full    int
	partial int
	sawINM  []string
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	etag := fmt.Sprintf(`W/"%x-%s"`, len(o.body)+len(r.Header.Get("Authorization")), strings.ReplaceAll(o.body+r.Header.Get("Authorization"), " ", "_"))
	o.sawINM = append(o.sawINM, r.Header.Get("If-None-Match"))
	w.Header().Set("ETag", etag)
	w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(5000-o.full))
	if r.Header.Get("If-None-Match") == etag {
		o.partial++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	o.full++
	_, _ = io.WriteString(w, o.body)
}

func (o *origin) set(body string) { o.mu.Lock(); o.body = body; o.mu.Unlock() }

func get(t *testing.T, rt http.RoundTripper, url, token string) (string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "token "+token)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return string(b), resp.Header
}

// A second read of an unchanged answer is a 304 served from the cache; a changed
// answer is always seen (the cache never answers without asking); one token's
// answer is never revalidated with, nor served to, another token.
func TestCacheRevalidatesAndNeverHidesAChange(t *testing.T) {
	o := &origin{body: "reviews: none"}
	srv := httptest.NewServer(o)
	defer srv.Close()
	rt := newCacheTransport(http.DefaultTransport, 0)

	if body, _ := get(t, rt, srv.URL+"/r", "a"); body != "reviews: none" {
		t.Fatalf("first read %q", body)
	}
	body, h := get(t, rt, srv.URL+"/r", "a")
	if body != "reviews: none" || h.Get(FromCacheHeader) == "" || o.partial != 1 {
		t.Fatalf("second read %q (cache header %q, 304s %d): want the kept body after a 304", body, h.Get(FromCacheHeader), o.partial)
	}
	if h.Get("X-RateLimit-Remaining") != "4999" {
		t.Errorf("the 304's rate-limit headers are not passed on: %q", h.Get("X-RateLimit-Remaining"))
	}
	o.set("reviews: APPROVED by alice")
	if body, _ := get(t, rt, srv.URL+"/r", "a"); body != "reviews: APPROVED by alice" {
		t.Fatalf("after a change the cache served %q", body)
	}
	if body, _ := get(t, rt, srv.URL+"/r", "b"); body != "reviews: APPROVED by alice" || o.sawINM[len(o.sawINM)-1] != "" {
		t.Fatalf("another token's read was conditional on the first token's ETag (%q) or got %q", o.sawINM[len(o.sawINM)-1], body)
	}
	if o.full != 3 || o.partial != 1 {
		t.Errorf("full answers %d, 304s %d; want 3 and 1", o.full, o.partial)
	}
}

// Writes pass through untouched and are never kept.
func TestCacheLeavesWritesAlone(t *testing.T) {
	o := &origin{body: "ok"}
	srv := httptest.NewServer(o)
	defer srv.Close()
	rt := newCacheTransport(http.DefaultTransport, 0)
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/w", strings.NewReader("x"))
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n, _ := rt.Len(); n != 0 || o.sawINM[1] != "" {
		t.Fatalf("a write was kept (%d entries) or made conditional (%q)", n, o.sawINM[1])
	}
}

// A full list page confirmed by a 304 names the next page, whatever its kept Link
// said: a page's ETag covers its body, not its Link, so a full last page answers 304
// after items were added behind it (a review after the hundredth), and a reader
// trusting the kept Link would stop before them. A page that is not full, or that
// names its next page, is served as kept.
func TestCacheReadsOnAfterAFullPage(t *testing.T) {
	for _, c := range []struct {
		name, body, query, link, want string
	}{
		{"full last page", `[{"id":1},{"id":2}]`, "?per_page=2&page=3", "", "page=4"},
		{"full only page", `[{"id":1},{"id":2}]`, "?per_page=2", "", "page=2"},
		{"page not full", `[{"id":1}]`, "?per_page=2&page=3", "", ""},
		{"names its next", `[{"id":1},{"id":2}]`, "?per_page=2&page=1", `<x?per_page=2&page=2>; rel="next"`, "page=2"},
		{"no per_page asked", `[{"id":1},{"id":2}]`, "", "", ""},
		{"not a list", `{"id":1,"total_count":2}`, "?per_page=1", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := &origin{body: c.body}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.link != "" {
					w.Header().Set("Link", c.link)
				}
				o.ServeHTTP(w, r)
			}))
			defer srv.Close()
			rt := newCacheTransport(http.DefaultTransport, 0)
			_, fresh := get(t, rt, srv.URL+"/list"+c.query, "a")
			if c.link == "" && fresh.Get("Link") != "" {
				t.Fatalf("a page read in full got a Link %q", fresh.Get("Link"))
			}
			_, kept := get(t, rt, srv.URL+"/list"+c.query, "a")
			if o.partial != 1 {
				t.Fatalf("%d 304s, want 1", o.partial)
			}
			link := kept.Get("Link")
			if c.want == "" {
				if link != c.link {
					t.Fatalf("Link %q, want %q", link, c.link)
				}
				return
			}
			next := ""
			for _, l := range strings.Split(link, ",") {
				if target, ok := strings.CutSuffix(strings.TrimSpace(l), `>; rel="next"`); ok {
					u, err := url.Parse(strings.TrimPrefix(target, "<"))
					if err != nil || next != "" {
						t.Fatalf("Link %q: %v, or two next links", link, err)
					}
					next = "page=" + u.Query().Get("page")
				}
			}
			if next != c.want {
				t.Fatalf("Link %q: next %q, want %s", link, next, c.want)
			}
		})
	}
}

// The cache keeps at most its bound of bodies, the least recently used going first.
func TestCacheIsBounded(t *testing.T) {
	o := &origin{body: strings.Repeat("x", 100)}
	srv := httptest.NewServer(o)
	defer srv.Close()
	rt := newCacheTransport(http.DefaultTransport, 250)
	for i := range 5 {
		get(t, rt, fmt.Sprintf("%s/p%d", srv.URL, i), "a")
	}
	if n, size := rt.Len(); n != 2 || size != 200 {
		t.Fatalf("kept %d answers of %d bytes; want the 2 newest (200 bytes)", n, size)
	}
	get(t, rt, srv.URL+"/p4", "a")
	if o.partial != 1 {
		t.Fatalf("the newest answer was not kept: %d 304s", o.partial)
	}
	o.set(strings.Repeat("y", 300)) // larger than the bound: not kept
	get(t, rt, srv.URL+"/big", "a")
	if _, size := rt.Len(); size > 250 {
		t.Fatalf("cache holds %d bytes, over its bound", size)
	}
}

func TestRouteTemplates(t *testing.T) {
	for path, want := range map[string]string{
		"/api/v3/repos/acme/infra/pulls":                   "/repos/{owner}/{repo}/pulls",
		"/repos/acme/infra/pulls/12/reviews":               "/repos/{owner}/{repo}/pulls/{}/reviews",
		"/repos/acme/infra/commits/0123abcd/status":        "/repos/{owner}/{repo}/commits/{}/status",
		"/repos/acme/infra/collaborators/alice/permission": "/repos/{owner}/{repo}/collaborators/{}/permission",
		"/orgs/acme/teams/sre/memberships/bob":             "/orgs/{}/teams/{}/memberships/{}",
		"/user":                                            "/user",
		"/repos/acme/infra/issues/3/timeline":              "/repos/{owner}/{repo}/issues/{}/timeline",
	} {
		if got := Route(path); got != want {
			t.Errorf("Route(%q) = %q, want %q", path, got, want)
		}
	}
}
