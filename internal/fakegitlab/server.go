// Package fakegitlab is a GitLab-compatible server for tests, never part of the
// product: the REST endpoints (API v4) the GitLab forge uses, and real Git over smart
// HTTP through `git http-backend`. It models what the remediator's gates depend on,
// as GitLab does it: merge requests whose pushes are versions dated by the server,
// approvals with the project's rules (the author may not approve unless allowed,
// committers may not when forbidden, a push resets approvals when the project says
// so), members and groups with access levels, commit statuses with their author,
// pipelines per commit, a merge that names the head (409 when it moved, 405 and 406
// when GitLab refuses), notes, labels and webhooks with X-Gitlab-Token. Its answers
// are checked against the recorded GitLab responses the client library ships
// (fixtures_test.go) and against GitLab's published OpenAPI description where it
// describes the endpoint (openapi_test.go, testdata/gitlab_fields.yaml).
package fakegitlab

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// Access levels, as GitLab numbers them.
const (
	Guest      = 10
	Reporter   = 20
	Developer  = 30
	Maintainer = 40
	Owner      = 50
)

// Server is one fake GitLab with its users, groups and projects.
type Server struct {
	URL string

	t       testing.TB
	root    string
	backend *cgi.Handler
	srv     *httptest.Server
	now     func() time.Time

	mu         sync.Mutex
	users      map[string]*user // by username, lower case
	tokens     map[string]string
	groups     map[string]map[string]int // group path -> username -> access level
	projects   map[string]*project
	nextID     int64
	deliveries []Delivery
	client     *http.Client
	// requests counts every API request, as GitLab's rate limit does (304s too);
	// notModified those answered 304.
	requests, notModified int
}

type user struct {
	id                    int64
	username, name, email string
	bot                   bool
}

type project struct {
	id        int64
	path, dir string
	members   map[string]int // username -> access level
	settings  Settings
	mrs       []*mergeRequest
	statuses  []*status
	pipelines []*pipeline
	pushes    []*push
	labels    map[string]int64
	hookURL   string
	hookToken string
}

// Settings are the project's merge request approval settings that the gates
// depend on (GET /projects/:id/approvals).
type Settings struct {
	// ApprovalsRequired is the project's approvals_before_merge: GitLab refuses a
	// merge (405) with fewer.
	ApprovalsRequired int
	// AuthorCanApprove is merge_requests_author_approval.
	AuthorCanApprove bool
	// CommittersCannotApprove is merge_requests_disable_committers_approval.
	CommittersCannotApprove bool
	// ResetOnPush is reset_approvals_on_push: a push removes every approval.
	ResetOnPush bool
	// MergeMethod is the project's merge_method: "merge" (the default: a merge
	// commit), "rebase_merge" (a merge commit, only when the source branch is
	// rebased onto the target) or "ff" (fast-forward only: no merge commit).
	MergeMethod string
}

type push struct {
	id       int64
	author   string
	ref      string
	from, to string
	created  time.Time
}

// New starts a server on loopback; it stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	execPath, err := exec.CommandContext(context.Background(), "git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, root: t.TempDir(), now: time.Now, users: map[string]*user{}, tokens: map[string]string{},
		groups: map[string]map[string]int{}, projects: map[string]*project{}, nextID: 100, client: &http.Client{Timeout: 10 * time.Second}}
	s.backend = &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=fake", "GIT_CONFIG_GLOBAL=/dev/null"},
	}
	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// SetClock replaces the server's clock: the dates of versions, approvals and
// events are the server's, as on GitLab.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddUser creates an account and a personal access token for it.
func (s *Server) AddUser(username, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(username, false)
	s.tokens[token] = strings.ToLower(username)
}

// AddBot creates a project access token's bot user with a token.
func (s *Server) AddBot(username, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(username, true)
	s.tokens[token] = strings.ToLower(username)
}

func (s *Server) addUser(username string, bot bool) {
	k := strings.ToLower(username)
	if _, ok := s.users[k]; ok {
		return
	}
	s.nextID++
	u := &user{id: s.nextID, username: username, name: strings.ToUpper(username[:1]) + username[1:], email: k + "@example.com", bot: bot}
	s.users[k] = u
}

// CreateProject makes group/name with one commit on main holding files, and returns
// the bare repository's directory (Git over HTTP at URL/group/name.git).
func (s *Server) CreateProject(path string, files map[string]string) string {
	s.t.Helper()
	dir := filepath.Join(s.root, path+".git")
	gittest.Run(s.t, "", "init", "-q", "--bare", "--initial-branch=main", dir)
	gittest.Run(s.t, dir, "config", "http.receivepack", "true")
	if len(files) > 0 {
		work := s.t.TempDir()
		gittest.Run(s.t, work, "init", "-q", "--initial-branch=main")
		for name, content := range files {
			gittest.WriteFile(s.t, filepath.Join(work, name), content)
		}
		gittest.Run(s.t, work, "add", "-A")
		gittest.Run(s.t, work, "-c", "user.name=init", "-c", "user.email=init@example.com", "commit", "-q", "-m", "initial")
		gittest.Run(s.t, work, "push", "-q", dir, "main")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.projects[path] = &project{id: s.nextID, path: path, dir: dir, members: map[string]int{}, labels: map[string]int64{}}
	return dir
}

// SetMember gives username an access level in the project (0 removes it).
func (s *Server) SetMember(path, username string, level int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(username, false)
	if level == 0 {
		delete(s.projects[path].members, strings.ToLower(username))
		return
	}
	s.projects[path].members[strings.ToLower(username)] = level
}

// SetGroupMember gives username an access level in the group (0 removes it).
func (s *Server) SetGroupMember(group, username string, level int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(username, false)
	if s.groups[group] == nil {
		s.groups[group] = map[string]int{}
	}
	if level == 0 {
		delete(s.groups[group], strings.ToLower(username))
		return
	}
	s.groups[group][strings.ToLower(username)] = level
}

// Configure sets the project's approval settings.
func (s *Server) Configure(path string, set Settings) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects[path].settings = set
}

// level is username's access to the project: its own membership, or the highest
// of its ancestor groups' (GitLab's inherited members).
func (s *Server) level(p *project, username string) int {
	k := strings.ToLower(username)
	best := p.members[k]
	for g := p.path; strings.Contains(g, "/"); {
		g = g[:strings.LastIndex(g, "/")]
		best = max(best, s.groups[g][k])
	}
	return best
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, c *call)) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" /api/v4"+path, func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, h) })
	}
	api("GET /user", s.currentUser)
	api("GET /users", s.listUsers)
	api("GET /projects/{id}", s.getProject)
	api("GET /projects/{id}/approvals", s.projectApprovals)
	api("GET /projects/{id}/members/all/{user_id}", s.projectMember)
	api("GET /groups/{id}/members/all/{user_id}", s.groupMember)
	api("GET /groups/{id}", s.getGroup)
	api("GET /projects/{id}/events", s.listEvents)
	api("GET /projects/{id}/merge_requests", s.listMRs)
	api("POST /projects/{id}/merge_requests", s.createMR)
	api("GET /projects/{id}/merge_requests/{iid}", s.getMR)
	api("PUT /projects/{id}/merge_requests/{iid}", s.updateMR)
	api("GET /projects/{id}/merge_requests/{iid}/versions", s.listVersions)
	api("GET /projects/{id}/merge_requests/{iid}/commits", s.listMRCommits)
	api("GET /projects/{id}/merge_requests/{iid}/approvals", s.mrApprovals)
	api("GET /projects/{id}/merge_requests/{iid}/approval_state", s.approvalState)
	api("POST /projects/{id}/merge_requests/{iid}/approve", s.approve)
	api("GET /projects/{id}/merge_requests/{iid}/reviewers", s.reviewersOf)
	api("POST /projects/{id}/merge_requests/{iid}/unapprove", s.unapprove)
	api("PUT /projects/{id}/merge_requests/{iid}/merge", s.merge)
	api("GET /projects/{id}/merge_requests/{iid}/notes", s.listNotes)
	api("POST /projects/{id}/merge_requests/{iid}/notes", s.createNote)
	api("PUT /projects/{id}/merge_requests/{iid}/notes/{note_id}", s.updateNote)
	api("DELETE /projects/{id}/merge_requests/{iid}/notes/{note_id}", s.deleteNote)
	api("GET /projects/{id}/merge_requests/{iid}/resource_state_events", s.stateEvents)
	api("GET /projects/{id}/repository/commits/{sha}/statuses", s.listStatuses)
	api("POST /projects/{id}/statuses/{sha}", s.setStatus)
	api("GET /projects/{id}/pipelines", s.listPipelines)
	mux.HandleFunc("/", s.serveGit)
	return mux
}

// call is one authenticated API request: who asks, and the project it names.
type call struct {
	login string
	p     *project
}

// serveAPI authenticates (PRIVATE-TOKEN, or a Bearer token) and finds the project
// named by its numeric id or its URL-encoded path, as GitLab does.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request, *call)) {
	token := r.Header.Get("PRIVATE-TOKEN")
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = b
	}
	s.mu.Lock()
	login, ok := s.tokens[token]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok || token == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	}
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	c := &call{login: login}
	if id := r.PathValue("id"); id != "" && strings.HasPrefix(r.URL.Path, "/api/v4/projects/") {
		s.mu.Lock()
		c.p = s.findProject(id)
		visible := c.p != nil && s.level(c.p, login) >= Guest
		s.mu.Unlock()
		if !visible {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Project Not Found"})
			return
		}
	}
	if r.Method != http.MethodGet {
		h(w, r, c)
		return
	}
	if serveConditional(w, r, func(w http.ResponseWriter) { h(w, r, c) }) {
		s.mu.Lock()
		s.notModified++
		s.mu.Unlock()
	}
}

func (s *Server) findProject(id string) *project {
	if p, ok := s.projects[id]; ok {
		return p
	}
	for _, p := range s.projects {
		if strconv.FormatInt(p.id, 10) == id {
			return p
		}
	}
	return nil
}

// serveGit serves Git over smart HTTP with the token as password; a push needs
// developer access, and moves the merge requests of the pushed branches.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	_, pass, ok := r.BasicAuth()
	path, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), ".git/")
	s.mu.Lock()
	login, known := s.tokens[pass]
	p := s.projects[path]
	s.mu.Unlock()
	if !ok || !known || p == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitLab"`)
		http.Error(w, "HTTP Basic: Access denied", http.StatusUnauthorized)
		return
	}
	push := strings.HasSuffix(r.URL.Path, "/git-receive-pack") || r.URL.Query().Get("service") == "git-receive-pack"
	s.mu.Lock()
	level := s.level(p, login)
	s.mu.Unlock()
	if push && level < Developer || level < Reporter {
		http.Error(w, "You are not allowed to push code to this project.", http.StatusForbidden)
		return
	}
	var before map[string]string
	if push && r.Method == http.MethodPost {
		before = branches(p.dir)
	}
	s.backend.ServeHTTP(w, r)
	if before != nil {
		s.afterPush(p, login, before)
	}
}

// branches are the branch heads of a bare repository.
func branches(dir string) map[string]string {
	out := map[string]string{}
	refs, _ := gittest.Output(dir, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads/")
	for _, line := range strings.Split(refs, "\n") {
		if name, sha, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			out[name] = sha
		}
	}
	return out
}

// afterPush records who pushed what (the project's push events, dated by the
// server) and moves the open merge requests of each pushed branch: a new version,
// and every approval removed when the project resets approvals on push.
func (s *Server) afterPush(p *project, login string, before map[string]string) {
	after := branches(p.dir)
	s.mu.Lock()
	defer s.mu.Unlock()
	for ref, sha := range after {
		if before[ref] == sha {
			continue
		}
		s.nextID++
		p.pushes = append(p.pushes, &push{id: s.nextID, author: login, ref: ref, from: before[ref], to: sha, created: s.now()})
		for _, m := range p.mrs {
			if m.state == "opened" && m.source == ref && m.sha != sha {
				s.moveHead(p, m, sha, login)
			}
		}
	}
}

// Push records a push by login to branch at sha made outside Git over HTTP (a
// test's direct write to the bare repository).
func (s *Server) Push(path, login, branch, sha string) {
	s.mu.Lock()
	p := s.projects[path]
	s.mu.Unlock()
	before := branches(p.dir)
	gittest.Run(s.t, p.dir, "update-ref", "refs/heads/"+branch, sha)
	s.afterPush(p, login, before)
}

// DeleteBranch deletes branch as login, recorded as GitLab records it: a push
// event that removed the branch.
func (s *Server) DeleteBranch(path, login, branch string) {
	s.mu.Lock()
	p := s.projects[path]
	s.mu.Unlock()
	before := branches(p.dir)
	gittest.Run(s.t, p.dir, "update-ref", "-d", "refs/heads/"+branch)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	p.pushes = append(p.pushes, &push{id: s.nextID, author: login, ref: branch, from: before[branch], created: s.now()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// userJSON is GitLab's basic user.
func (s *Server) userJSON(username string) any {
	u := s.users[strings.ToLower(username)]
	if u == nil {
		return nil
	}
	return map[string]any{"id": u.id, "username": u.username, "name": u.name, "state": "active",
		"avatar_url": s.URL + "/uploads/avatar.png", "web_url": s.URL + "/" + u.username}
}

// hookUser is a user as webhooks carry it.
func (s *Server) hookUser(username string) any {
	u := s.users[strings.ToLower(username)]
	return map[string]any{"id": u.id, "name": u.name, "username": u.username, "avatar_url": s.URL + "/uploads/avatar.png", "email": "[REDACTED]"}
}

func (s *Server) userByID(id string) *user {
	for _, u := range s.users {
		if strconv.FormatInt(u.id, 10) == id {
			return u
		}
	}
	return nil
}

func notFound(w http.ResponseWriter, what string) {
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 " + what + " Not Found"})
}

func lower(s string) string { return strings.ToLower(s) }

// Root is the directory holding the bare repositories, as group/name.git.
func (s *Server) Root() string { return s.root }
