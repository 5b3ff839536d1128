package fakegithub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// call sends a request and returns its answer.
func call(t *testing.T, s *fakegithub.Server, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+"/api/v3"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token t0k")
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

type answer struct {
	status int
	header http.Header
	body   []byte
}

func newServer(t *testing.T, pulls int) *fakegithub.Server {
	s := newUnchecked(t, pulls)
	t.Cleanup(func() { s.CheckSpec(t) })
	return s
}

func newUnchecked(t *testing.T, pulls int) *fakegithub.Server {
	s := fakegithub.New(t)
	s.AddToken("t0k", "someone")
	dir := s.CreateRepo("octokit-fixture-org", "repo", map[string]string{"README.md": "hi\n"})
	for i := 1; i <= pulls; i++ {
		branch := fmt.Sprintf("b%d", i)
		gittest.Run(t, dir, "update-ref", "refs/heads/"+branch, "refs/heads/main")
		if a := call(t, s, "POST", "/repos/octokit-fixture-org/repo/pulls", fmt.Sprintf(`{"title":"t%d","head":%q,"base":"main"}`, i, branch)); a.status != 201 {
			t.Fatalf("create pull %d: %d", i, a.status)
		}
	}
	return s
}

// shape is a JSON value's structure: keys and the kind of each value, not the values.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, c := range x {
			out[k] = shape(c)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = shape(c)
		}
		return out
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", x)
	}
}

// Replays the request of @octokit/fixtures' add-labels-to-issue recording and wants
// an answer of the recorded shape, with the recorded names in the recorded order.
func TestLabelsAnswerAsRecorded(t *testing.T) {
	rec := fakegithub.Fixtures(t, "add-labels-to-issue")[1]
	if !strings.EqualFold(rec.Method, http.MethodPost) || !strings.HasSuffix(rec.Path, "/issues/1/labels") {
		t.Fatalf("recording changed: %s %s", rec.Method, rec.Path)
	}
	s := newServer(t, 1)
	raw, _ := json.Marshal(map[string]any{"labels": []string{"Foo", "bAr", "baZ"}})
	a := call(t, s, "POST", "/repos/octokit-fixture-org/repo/issues/1/labels", string(raw))
	if a.status != rec.Status {
		t.Fatalf("status %d, recorded %d", a.status, rec.Status)
	}
	body := a.body
	var got, want any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rec.Response, &want); err != nil {
		t.Fatal(err)
	}
	gs, ws := fmt.Sprint(shape(got)), fmt.Sprint(shape(want))
	if gs != ws {
		t.Fatalf("shape differs from the recording:\nfake:     %s\nrecorded: %s", gs, ws)
	}
	for i, l := range want.([]any) {
		if g := got.([]any)[i].(map[string]any); g["name"] != l.(map[string]any)["name"] || g["color"] != l.(map[string]any)["color"] {
			t.Errorf("label %d: %v, recorded %v", i, g, l)
		}
	}
}

var linkRE = regexp.MustCompile(`<([^>]+)>; rel="(\w+)"`)

type link struct {
	rel   string
	query []string
	page  string
}

func parseLinks(t *testing.T, h string) []link {
	t.Helper()
	var out []link
	for _, m := range linkRE.FindAllStringSubmatch(h, -1) {
		u, err := url.Parse(m[1])
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range u.Query() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out = append(out, link{rel: m[2], query: keys, page: u.Query().Get("page")})
	}
	if len(out) == 0 {
		t.Fatalf("no links in %q", h)
	}
	return out
}

// Pagination links as @octokit/fixtures' paginate-issues recorded them: same rels in
// the same order, same query parameters, same pages, on 13 items 3 per page.
func TestPaginationLinksAsRecorded(t *testing.T) {
	recs := fakegithub.Fixtures(t, "paginate-issues")
	s := newServer(t, 13)
	for page := 1; page <= 2; page++ {
		a := call(t, s, "GET", fmt.Sprintf("/repos/octokit-fixture-org/repo/pulls?per_page=3&page=%d", page), "")
		got := parseLinks(t, a.header.Get("Link"))
		want := parseLinks(t, recs[page-1].Header()["Link"][0])
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("page %d links %v, recorded %v", page, got, want)
		}
	}
}

// Every route the fake serves is one GitHub documents, and every answer above was
// checked against its schema (by the cleanup); this test makes sure the check bites.
func TestSpecCheckRejectsWrongShapes(t *testing.T) {
	s := newUnchecked(t, 1)
	s.Inject(fakegithub.Fault{Method: "GET", Route: "/repos/{owner}/{repo}/pulls/{pull_number}", Status: 200, Body: []byte(`{"number":"one"}`)})
	call(t, s, "GET", "/repos/octokit-fixture-org/repo/pulls/1", "")
	ft := &fakeT{TB: t}
	s.CheckSpec(ft)
	if len(ft.errors) == 0 {
		t.Fatal("a pull request without its required fields passed the schema check")
	}
}

// A held request is announced as it arrives, and the server lets it go when its
// client goes away (killed) rather than holding it for the whole delay.
func TestAHeldRequestIsAnnouncedAndEndsWithItsClient(t *testing.T) {
	s := newServer(t, 1)
	arrived := make(chan struct{}, 1)
	s.Inject(fakegithub.Fault{Method: "GET", Route: "/repos/{owner}/{repo}/pulls/{pull_number}", Delay: time.Hour, Arrived: arrived})
	req, err := http.NewRequest(http.MethodGet, s.URL+"/api/v3/repos/octokit-fixture-org/repo/pulls/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token t0k")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case <-arrived:
	case err := <-done:
		t.Fatalf("the held request was answered: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the held request was never announced")
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the held request was answered")
	}
	// The fault took its one request: the next is served.
	if a := call(t, s, "GET", "/repos/octokit-fixture-org/repo/pulls/1", ""); a.status != http.StatusOK {
		t.Fatalf("after the held request: %d %s", a.status, a.body)
	}
}

type fakeT struct {
	testing.TB
	errors []string
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeT) Helper() {}

// Replays @octokit/fixtures' create-status recording: same status, same shape.
func TestStatusAnswerAsRecorded(t *testing.T) {
	rec := fakegithub.Fixtures(t, "create-status")[0]
	s := newServer(t, 0)
	sha := gittest.Run(t, filepath.Join(s.Root(), "octokit-fixture-org", "repo.git"), "rev-parse", "main")
	a := call(t, s, "POST", "/repos/octokit-fixture-org/repo/statuses/"+sha, `{"state":"failure","target_url":"https://example.com","description":"create-status failure test","context":"example/1"}`)
	if a.status != rec.Status {
		t.Fatalf("status %d, recorded %d: %s", a.status, rec.Status, a.body)
	}
	var got, want map[string]any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rec.Response, &want); err != nil {
		t.Fatal(err)
	}
	if gs, ws := fmt.Sprint(shape(got)), fmt.Sprint(shape(want)); gs != ws {
		t.Fatalf("shape differs from the recording:\nfake:     %s\nrecorded: %s", gs, ws)
	}
	for _, k := range []string{"state", "description", "target_url", "context"} {
		if got[k] != want[k] {
			t.Errorf("%s: %v, recorded %v", k, got[k], want[k])
		}
	}
}

// Webhook payloads are checked against GitHub's x-webhooks schemas too.
func TestSpecCheckRejectsWrongWebhookPayloads(t *testing.T) {
	s := newUnchecked(t, 0)
	s.DeliverForTest("pull_request", map[string]any{"action": "synchronize", "number": 1})
	ft := &fakeT{TB: t}
	s.CheckSpec(ft)
	if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], "webhook pull-request-synchronize does not match GitHub's schema") ||
		!strings.Contains(ft.errors[0], `property "pull_request" is missing`) {
		t.Fatalf("a synchronize payload without its pull request passed: %v", ft.errors)
	}
}

// sort=updated lists the pull request changed last first, as GitHub does: the
// remediator reads its pull requests incrementally by it and stops at the first one
// it has read, so a fake that listed by creation would hide a close of an old one.
func TestListSortedByUpdated(t *testing.T) {
	s := newServer(t, 3)
	s.Close("octokit-fixture-org", "repo", 1, time.Now().Add(time.Minute))
	numbers := func(query string) string {
		a := call(t, s, "GET", "/repos/octokit-fixture-org/repo/pulls?"+query, "")
		var prs []struct {
			Number int `json:"number"`
		}
		if err := json.Unmarshal(a.body, &prs); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(prs)
	}
	if got := numbers("state=all&sort=updated&direction=desc"); got != "[{1} {3} {2}]" {
		t.Errorf("sort=updated desc: %s, want #1 (closed last) first", got)
	}
	if got := numbers("state=all&sort=created&direction=desc"); got != "[{3} {2} {1}]" {
		t.Errorf("sort=created desc: %s", got)
	}
}
