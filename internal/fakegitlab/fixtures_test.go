package fakegitlab_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// clientDir is the GitLab client library's module directory, whose testdata holds
// GitLab's recorded answers.
func clientDir(t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(context.Background(), "go", "list", "-m", "-f", "{{.Dir}}", "gitlab.com/gitlab-org/api/client-go/v2").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("find the GitLab client's module: %v", err)
	}
	return dir
}

// recorded reads a recorded answer: a testdata file, or the JSON a test of the
// library serves for handler (the first raw string after its HandleFunc).
func recorded(t *testing.T, file, handler string) []byte {
	t.Helper()
	if file == "" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(clientDir(t), file))
	if err != nil {
		t.Fatal(err)
	}
	if handler == "" {
		return data
	}
	src := string(data)
	i := strings.Index(src, `"`+handler+`"`)
	if i < 0 {
		t.Fatalf("%s: no handler %s", file, handler)
	}
	src = src[i:]
	a := strings.Index(src, "`")
	b := strings.Index(src[a+1:], "`")
	if a < 0 || b < 0 {
		t.Fatalf("%s: no recorded body after %s", file, handler)
	}
	return []byte(src[a+1 : a+1+b])
}

// keys lists the key paths of a JSON document (arrays by their first element).
func keys(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	out := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				out[prefix+k] = true
				walk(prefix+k+".", c)
			}
		case []any:
			for _, c := range x {
				walk(prefix, c)
			}
		}
	}
	walk("", v)
	return out
}

// env is a project with one merge request that a developer approved, a pipeline
// and a status on its head, a note, and a webhook that keeps what it receives.
type env struct {
	srv   *fakegitlab.Server
	hooks chan delivery
	seen  map[string][]byte
}

type delivery struct {
	event string
	body  []byte
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{srv: fakegitlab.New(t), hooks: make(chan delivery, 64), seen: map[string][]byte{}}
	hook := http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.hooks <- delivery{r.Header.Get("X-Gitlab-Event"), b}
	})}
	ln := listen(t)
	go func() { _ = hook.Serve(ln) }()
	t.Cleanup(func() { _ = hook.Close() })
	s := e.srv
	s.AddUser("remediator", "rtoken")
	s.AddUser("alice", "atoken")
	s.AddUser("ci", "ctoken")
	dir := s.CreateProject("acme/infra", map[string]string{"main.tf": "# infra\n"})
	s.SetMember("acme/infra", "remediator", fakegitlab.Maintainer)
	s.SetMember("acme/infra", "alice", fakegitlab.Developer)
	s.SetMember("acme/infra", "ci", fakegitlab.Developer)
	s.SetGroupMember("acme", "alice", fakegitlab.Developer)
	s.Hook("acme/infra", "http://"+ln.Addr().String()+"/hook", "secret")
	sha := branch(t, dir, "remediation/a", "main.tf", "# changed\n")
	s.Push("acme/infra", "remediator", "remediation/a", sha)
	e.api(t, http.MethodPost, "/projects/acme%2Finfra/merge_requests",
		`{"title":"t","description":"d","source_branch":"remediation/a","target_branch":"main","add_labels":"remediation"}`, http.StatusCreated)
	if err := s.Approve("acme/infra", 1, "alice"); err != nil {
		t.Fatal(err)
	}
	s.Pipeline("acme/infra", "remediation/a", sha, "ci", map[string]string{"plan": "success"})
	s.AddNote("acme/infra", 1, "alice", "looks good")
	return e
}

// branch commits a change on a new branch of a bare repository, directly.
func branch(t *testing.T, bare, name, file, content string) string {
	t.Helper()
	work := t.TempDir()
	gittest.Run(t, work, "clone", "-q", bare, ".")
	gittest.Run(t, work, "checkout", "-q", "-b", name)
	gittest.WriteFile(t, filepath.Join(work, file), content)
	gittest.Run(t, work, "commit", "-q", "-am", "change")
	gittest.Run(t, work, "push", "-q", bare, "HEAD:refs/heads/"+name+"-tmp")
	sha := gittest.Run(t, work, "rev-parse", "HEAD")
	gittest.Run(t, bare, "update-ref", "-d", "refs/heads/"+name+"-tmp")
	return sha
}

func (e *env) api(t *testing.T, method, path, body string, want int) []byte {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, e.srv.URL+"/api/v4"+path, strings.NewReader(body))
	req.Header.Set("PRIVATE-TOKEN", "rtoken")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	return b
}

func (e *env) hook(t *testing.T, event string) []byte {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		if b, ok := e.seen[event]; ok {
			return b
		}
		select {
		case d := <-e.hooks:
			if _, ok := e.seen[d.event]; !ok {
				e.seen[d.event] = d.body
			}
		case <-timeout:
			t.Fatalf("no %s delivered", event)
		}
	}
}

// TestAnswersMatchGitLabsRecordings: for every endpoint and webhook the forge uses,
// the server's answer and GitLab's recorded answer (shipped in the client library's
// tests) decode into the same client type; every field the server answers is one
// GitLab's recording has (the server invents nothing), and every field the gates
// read is present in both and decodes to a value.
func TestAnswersMatchGitLabsRecordings(t *testing.T) {
	e := newEnv(t)
	mrHook, noteHook, pipelineHook := e.hook(t, "Merge Request Hook"), e.hook(t, "Note Hook"), e.hook(t, "Pipeline Hook")
	cases := []struct {
		name, file, handler string
		ours                []byte
		into                func() any
		gate                []string
	}{
		{"merge request", "testdata/get_merge_request.json", "", e.api(t, "GET", "/projects/acme%2Finfra/merge_requests/1", "", 200),
			func() any { return new(gl.MergeRequest) },
			[]string{"iid", "state", "author.username", "source_branch", "target_branch", "sha", "source_project_id", "target_project_id", "description", "labels", "created_at", "web_url"}},
		{"merge requests", "testdata/get_merge_requests.json", "", e.api(t, "GET", "/projects/acme%2Finfra/merge_requests?state=all", "", 200),
			func() any { return new([]*gl.BasicMergeRequest) },
			[]string{"iid", "state", "author.username", "source_branch", "target_branch", "sha", "source_project_id", "labels", "updated_at"}},
		{"approvals", "testdata/get_merge_request_approvals.json", "", e.api(t, "GET", "/projects/acme%2Finfra/merge_requests/1/approvals", "", 200),
			func() any { return new(gl.MergeRequestApprovals) }, []string{"approved_by.user.username", "approved_by.approved_at"}},
		{"current user", "testdata/get_user.json", "", e.api(t, "GET", "/user", "", 200),
			func() any { return new(gl.User) }, []string{"id", "username"}},
		{"users", "testdata/list_users.json", "", e.api(t, "GET", "/users?username=alice", "", 200),
			func() any { return new([]*gl.User) }, []string{"id", "username"}},
		{"versions", "", "",
			e.api(t, "GET", "/projects/acme%2Finfra/merge_requests/1/versions", "", 200),
			func() any { return new([]*gl.MergeRequestDiffVersion) }, []string{"head_commit_sha", "created_at"}},
		{"commit statuses", "", "",
			e.api(t, "GET", "/projects/acme%2Finfra/repository/commits/"+e.srv.MergeRequests("acme/infra")[0].SHA+"/statuses?all=true", "", 200),
			func() any { return new([]*gl.CommitStatus) }, []string{"name", "status", "author.username", "id"}},
		{"notes", "notes_test.go", "/api/v4/projects/1/merge_requests/4329/notes",
			e.api(t, "GET", "/projects/acme%2Finfra/merge_requests/1/notes", "", 200),
			func() any { return new([]*gl.Note) }, []string{"id", "body", "author.username"}},
		{"project events", "events_test.go", "/api/v4/projects/15/events",
			e.api(t, "GET", "/projects/acme%2Finfra/events?action=pushed", "", 200),
			func() any { return new([]*gl.ProjectEvent) }, []string{"author_username", "created_at", "push_data.ref", "push_data.commit_to"}},
		{"pipelines", "", "",
			e.api(t, "GET", "/projects/acme%2Finfra/pipelines", "", 200),
			func() any { return new([]*gl.PipelineInfo) }, []string{"id", "sha", "status"}},
		{"merge request hook", "testdata/webhooks/merge_request.json", "", mrHook,
			func() any { return new(gl.MergeEvent) }, []string{"object_kind", "object_attributes.iid", "object_attributes.source_branch", "object_attributes.action", "project.path_with_namespace"}},
		{"note hook", "testdata/webhooks/note_merge_request.json", "", noteHook,
			func() any { return new(gl.MergeCommentEvent) }, []string{"object_kind", "merge_request.iid", "merge_request.source_branch"}},
		{"pipeline hook", "testdata/webhooks/pipeline.json", "", pipelineHook,
			func() any { return new(gl.PipelineEvent) }, []string{"object_kind", "object_attributes.sha", "object_attributes.status"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := recorded(t, tc.file, tc.handler)
			for what, data := range map[string][]byte{"recorded": rec, "ours": tc.ours} {
				if data == nil {
					continue
				}
				if err := json.Unmarshal(data, tc.into()); err != nil {
					t.Fatalf("%s answer does not decode into the client's type: %v", what, err)
				}
			}
			// What the client's type reads of our answer: decoded, then encoded again.
			read := tc.into()
			_ = json.Unmarshal(tc.ours, read)
			again, _ := json.Marshal(read)
			known, ours, theirs := keys(t, again), keys(t, tc.ours), map[string]bool{}
			if rec != nil {
				theirs = keys(t, rec)
			}
			var invented []string
			for k := range ours {
				if !theirs[k] && !known[k] {
					invented = append(invented, k)
				}
			}
			sort.Strings(invented)
			if len(invented) > 0 {
				t.Errorf("fields neither GitLab's recording nor the client's type has: %v", invented)
			}
			for _, k := range tc.gate {
				if !ours[k] || !known[k] {
					t.Errorf("gate field %s: in our answer %v, read by the client %v", k, ours[k], known[k])
				}
				if strings.HasPrefix(tc.file, "testdata/") && !theirs[k] {
					t.Errorf("gate field %s is not in GitLab's recording %s", k, tc.file)
				}
			}
			decoded := tc.into()
			_ = json.Unmarshal(tc.ours, decoded)
			if reflect.ValueOf(decoded).Elem().IsZero() {
				t.Error("our answer decodes to nothing")
			}
		})
	}
}
