// Package fakegithub is a GitHub-compatible server for tests, never part of the
// product: the REST endpoints the GitHub forge uses, under /api/v3 as on GitHub
// Enterprise Server, and real Git over smart HTTP through `git http-backend`. Every
// response is recorded, so tests check them against GitHub's OpenAPI description;
// faults (5xx, rate limits, slow answers) are injected per route.
package fakegithub

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// Server is one fake GitHub with its repositories.
type Server struct {
	URL string

	t       testing.TB
	root    string
	done    chan struct{}
	backend *cgi.Handler
	srv     *httptest.Server
	now     func() time.Time

	mu         sync.Mutex
	repos      map[string]*repo
	tokens     map[string]string // token -> login
	apps       map[int64]*rsa.PublicKey
	userIDs    map[string]int64
	nextID     int64
	faults     []*Fault
	exchanges  []Exchange
	collabs    map[string]bool
	roles      map[string]string   // login -> repository role (access.go)
	teams      map[string][]string // org/slug -> logins
	hook       *hook
	deliveries []Delivery
	emails     map[string]string // commit email -> login
	payloads   []Payload
	limits     rateLimit
}

type repo struct {
	owner, name string
	id          int64
	dir         string
	created     time.Time
	pulls       []*pull
	labels      map[string]int64
	comments    []*comment
	statuses    []*status
	checkRuns   []*checkRun
	// forkOf is the repository this one is a fork of.
	forkOf *repo
	// protection is the base branches' protection rule, nil when unprotected.
	protection *Protection
}

type pull struct {
	id                  int64
	number              int
	title, body, author string
	state               string
	head, headSHA       string
	base, baseSHA       string
	labels              []string
	reviewers, teams    []string
	created, updated    time.Time
	closed, merged      time.Time
	mergedBy, mergeSHA  string
	comments            []*comment
	reviews             []*review
	// headRepo holds the head branch when it is a fork's; nil means the base's.
	headRepo *repo
	// lastPusher is who last moved the head by a push.
	lastPusher string
	// events are the timeline's, oldest first (timeline.go).
	events []*event
}

type review struct {
	id                     int64
	login, state, commitID string
	submitted              time.Time
}

type status struct {
	id                                int64
	sha, state, context, desc, target string
	creator                           string
	created                           time.Time
}

type comment struct {
	id               int64
	issue            int
	body, author     string
	created, updated time.Time
}

// Exchange is one REST request and the answer the server gave.
type Exchange struct {
	Method string
	// Route is the OpenAPI path template, e.g. /repos/{owner}/{repo}/pulls.
	Route  string
	Status int
	Header http.Header
	Body   []byte
	// Injected is true for a fault's answer, which tests supply themselves.
	Injected bool
}

// Fault replaces the server's answer to the next matching requests.
type Fault struct {
	Method string
	// Route is the OpenAPI path template the fault applies to.
	Route string
	// Times is how many requests it answers; 0 is once.
	Times  int
	Status int
	Header http.Header
	Body   []byte
	// Delay holds the answer back (a slow server); with Status 0 the request is
	// then served normally.
	Delay time.Duration
	// LostAnswer serves the request (GitHub did the work) and then holds the
	// answer back for Delay: the client times out not knowing it succeeded.
	LostAnswer bool
	// Arrived, when set, is told of each request the fault takes as it arrives
	// (never blocking the server: give it room): a test knows a client is held in
	// that call before it acts on the client, e.g. kills it.
	Arrived chan<- struct{}
	hits    int
}

// New starts a server on loopback; it stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	execPath, err := exec.CommandContext(context.Background(), "git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		t: t, root: t.TempDir(), now: time.Now,
		repos: map[string]*repo{}, tokens: map[string]string{}, apps: map[int64]*rsa.PublicKey{},
		userIDs: map[string]int64{}, nextID: 1000, collabs: map[string]bool{}, roles: map[string]string{}, teams: map[string][]string{},
		emails: map[string]string{},
	}
	s.backend = &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=fake", "GIT_CONFIG_GLOBAL=/dev/null"},
	}
	s.done = make(chan struct{})
	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() { close(s.done) }) // runs first: held answers give up

	return s
}

// AddToken lets a token act as login, over REST and Git, with write access unless
// SetRole says otherwise.
func (s *Server) AddToken(token, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = login
	s.grantWrite(login)
}

// AddApp registers a GitHub App whose JWTs are signed by key.
func (s *Server) AddApp(appID int64, key *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[appID] = key
}

// AddCollaborator makes a login a writer of the repositories (unless SetRole gave
// it another role): a reviewer they accept.
func (s *Server) AddCollaborator(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grantWrite(login)
}

// CreateRepo makes owner/name with one commit on main holding files, and returns the
// bare repository's directory (Git over HTTP at URL/owner/name.git).
func (s *Server) CreateRepo(owner, name string, files map[string]string) string {
	s.t.Helper()
	dir := filepath.Join(s.root, owner, name+".git")
	gittest.Run(s.t, "", "init", "-q", "--bare", "--initial-branch=main", dir)
	gittest.Run(s.t, dir, "config", "http.receivepack", "true")
	if len(files) > 0 {
		work := s.t.TempDir()
		gittest.Run(s.t, work, "init", "-q", "--initial-branch=main")
		for name, content := range files {
			gittest.WriteFile(s.t, filepath.Join(work, name), content)
		}
		gittest.Run(s.t, work, "add", "-A")
		gittest.Run(s.t, work, "commit", "-q", "-m", "initial")
		gittest.Run(s.t, work, "push", "-q", dir, "main")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.repos[owner+"/"+name] = &repo{owner: owner, name: name, id: s.nextID, dir: dir, created: s.now(), labels: map[string]int64{}}
	return dir
}

// Root is the directory holding the bare repositories, as owner/name.git.
func (s *Server) Root() string { return s.root }

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	// Recorded headers describe the recorded body and connection, not this one.
	if f.Header != nil {
		f.Header = f.Header.Clone()
		for _, k := range []string{"Content-Length", "Connection", "Transfer-Encoding", "Date"} {
			f.Header.Del(k)
		}
	}
	s.faults = append(s.faults, &f)
}

// Exchanges returns every REST exchange so far.
func (s *Server) Exchanges() []Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Exchange(nil), s.exchanges...)
}

// Requests counts the REST requests for method and route so far.
func (s *Server) Requests(method, route string) int {
	n := 0
	for _, e := range s.Exchanges() {
		if e.Method == method && e.Route == route {
			n++
		}
	}
	return n
}

// PullRequest is a test's view of one pull request.
type PullRequest struct {
	Number    int
	Title     string
	Body      string
	State     string
	Merged    bool
	Head      string
	HeadSHA   string
	Base      string
	Labels    []string
	Reviewers []string
	Teams     []string
	Comments  []string
}

// PullRequests lists owner/name's pull requests, oldest first.
func (s *Server) PullRequests(owner, name string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[owner+"/"+name]
	var out []PullRequest
	for _, p := range r.pulls {
		pr := PullRequest{Number: p.number, Title: p.title, Body: p.body, State: p.state, Merged: !p.merged.IsZero(),
			Head: p.head, HeadSHA: p.headSHA, Base: p.base, Labels: append([]string(nil), p.labels...),
			Reviewers: append([]string(nil), p.reviewers...), Teams: append([]string(nil), p.teams...)}
		for _, c := range p.comments {
			pr.Comments = append(pr.Comments, c.body)
		}
		out = append(out, pr)
	}
	return out
}

// Status is a commit status as a test sees it.
type Status struct{ SHA, Context, State, Description string }

// Statuses lists the commit statuses set on owner/name, oldest first.
func (s *Server) Statuses(owner, name string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, st := range s.repos[owner+"/"+name].statuses {
		out = append(out, Status{SHA: st.sha, Context: st.context, State: st.state, Description: st.desc})
	}
	return out
}

// Review records a review as a person would submit it on GitHub: state APPROVED,
// CHANGES_REQUESTED, COMMENTED or DISMISSED, on commit sha.
func (s *Server) Review(owner, name string, number int, login, state, sha string, at time.Time) {
	s.mu.Lock()
	s.nextID++
	rp := s.repos[owner+"/"+name]
	p := rp.pulls[number-1]
	rv := &review{id: s.nextID, login: login, state: state, commitID: sha, submitted: at}
	p.reviews = append(p.reviews, rv)
	p.updated = at // as on GitHub, a review moves the pull request's updated_at
	// As on GitHub, a review answers the request made of its reviewer.
	p.reviewers = slices.DeleteFunc(p.reviewers, func(r string) bool { return strings.EqualFold(r, login) })
	payload := map[string]any{"action": "submitted", "review": s.hookReview(rp, p, rv), "pull_request": s.pull(rp, p),
		"repository": s.repository(rp), "sender": s.user(login)}
	s.deliver("pull_request_review", payload)
	s.mu.Unlock()
}

// Close closes a pull request without merging, as a reviewer rejecting it would
// (the repository's owner).
func (s *Server) Close(owner, name string, number int, at time.Time) {
	s.CloseAs(owner, name, number, owner, at)
}

// CloseAs closes a pull request without merging, as login.
func (s *Server) CloseAs(owner, name string, number int, login string, at time.Time) {
	s.mu.Lock()
	rp := s.repos[owner+"/"+name]
	p := rp.pulls[number-1]
	p.state, p.closed, p.updated = "closed", at, at
	s.nextID++
	p.events = append(p.events, &event{id: s.nextID, kind: "closed", actor: login, created: at})
	payload := map[string]any{"action": "closed", "number": p.number, "pull_request": s.pull(rp, p), "repository": s.repository(rp),
		"sender": s.user(login)}
	s.deliver("pull_request", payload)
	s.mu.Unlock()
}

// SetCreated backdates a pull request, for limits counted over time.
func (s *Server) SetCreated(owner, name string, number int, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[owner+"/"+name].pulls[number-1].created = at
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, rp *repo)) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" /api/v3"+path, func(w http.ResponseWriter, r *http.Request) {
			s.serveAPI(w, r, method, path, func(w http.ResponseWriter, r *http.Request) { s.serveRepo(w, r, h) })
		})
	}
	org := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" /api/v3"+path, func(w http.ResponseWriter, r *http.Request) {
			s.serveAPI(w, r, method, path, func(w http.ResponseWriter, r *http.Request) { s.serveAuthed(w, r, h) })
		})
	}
	api("GET /repos/{owner}/{repo}/pulls", s.listPulls)
	api("POST /repos/{owner}/{repo}/pulls", s.createPull)
	api("GET /repos/{owner}/{repo}/pulls/{pull_number}", s.getPull)
	api("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", s.updatePull)
	api("POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", s.requestReviewers)
	api("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", s.addLabels)
	api("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", s.listComments)
	api("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", s.createComment)
	api("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", s.updateComment)
	api("DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}", s.deleteComment)
	api("POST /repos/{owner}/{repo}/statuses/{sha}", s.createStatus)
	api("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", s.listReviews)
	api("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", s.createReview)
	api("PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals", s.dismissReview)
	api("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", s.listPullCommits)
	api("GET /repos/{owner}/{repo}/collaborators/{username}/permission", s.collaboratorPermission)
	api("GET /repos/{owner}/{repo}/issues/{issue_number}/timeline", s.timeline)
	org("GET /user", s.authenticatedUser)
	api("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", s.mergePull)
	api("GET /repos/{owner}/{repo}/commits/{ref}/status", s.combinedStatus)
	api("GET /repos/{owner}/{repo}/commits/{ref}/statuses", s.listStatuses)
	api("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", s.listCheckRuns)
	org("GET /orgs/{org}/teams/{team_slug}/memberships/{username}", s.teamMembership)
	mux.HandleFunc("POST /api/v3/app/installations/{installation_id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(w, r, "POST", "/app/installations/{installation_id}/access_tokens", s.accessToken)
	})
	mux.HandleFunc("GET /api/v3/app", func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(w, r, "GET", "/app", s.authenticatedApp)
	})
	mux.HandleFunc("/{owner}/{repo}/", s.serveGit)
	return mux
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, method, route string, h http.HandlerFunc) {
	f := s.fault(method, route)
	if f != nil && f.Arrived != nil {
		select {
		case f.Arrived <- struct{}{}:
		default:
		}
	}
	if f != nil && f.LostAnswer {
		rec := httptest.NewRecorder()
		s.serveAPI(rec, r, method, route, h)
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	if f != nil {
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			case <-s.done:
				return
			}
		}
		if f.Status != 0 {
			for k, vs := range f.Header {
				w.Header()[k] = vs
			}
			s.record(Exchange{Method: method, Route: route, Status: f.Status, Header: f.Header, Body: f.Body, Injected: true})
			w.WriteHeader(f.Status)
			_, _ = w.Write(f.Body)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	s.serveConditional(w, r, method, route, h)
}

// serveRepo authenticates the request and runs the handler on its repository.
func (s *Server) serveRepo(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request, *repo)) {
	s.serveAuthed(w, r, func(w http.ResponseWriter, r *http.Request) {
		rp := s.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
		if rp == nil {
			notFound(w)
			return
		}
		h(w, r, rp)
	})
}

// serveAuthed authenticates the request and runs the handler with s.mu held; the
// login is in the X-Fake-Login request header.
func (s *Server) serveAuthed(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	login, ok := s.login(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Header.Set("X-Fake-Login", login)
	h(w, r)
}

func (s *Server) fault(method, route string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method == method && f.Route == route {
			f.hits++
			if f.hits >= f.Times {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

func (s *Server) record(e Exchange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exchanges = append(s.exchanges, e)
}

// login reads "Authorization: token X" or "Bearer X".
func (s *Server) login(r *http.Request) (string, bool) {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || (!strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer")) {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	login, ok := s.tokens[tok]
	return login, ok
}

// accessToken issues an installation token for a JWT signed with a registered App key.
// appOf is the App whose JWT (signed with its key) authenticates the request.
func (s *Server) appOf(r *http.Request) (int64, error) {
	_, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	claims := &jwt.RegisteredClaims{}
	var id int64
	_, err := jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		if _, ok := tok.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("unexpected signing method %v", tok.Header["alg"])
		}
		var err error
		if id, err = strconv.ParseInt(claims.Issuer, 10, 64); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		key, ok := s.apps[id]
		if !ok {
			return nil, fmt.Errorf("no app %d", id)
		}
		return key, nil
	})
	return id, err
}

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	if _, err := s.appOf(r); err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "A JSON web token could not be decoded", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	s.mu.Lock()
	s.nextID++
	tok := fmt.Sprintf("ghs_fake%d", s.nextID)
	s.tokens[tok] = "remediator[bot]"
	s.grantWrite("remediator[bot]") // the installation's contents and pull requests: write
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": stamp(s.now().Add(time.Hour)), "permissions": map[string]any{"pull_requests": "write", "contents": "write", "issues": "write"}, "repository_selection": "selected"})
}

// authenticatedApp answers GET /app for the App whose JWT signs the request: its
// slug is "remediator", so its installation acts as remediator[bot] (accessToken).
func (s *Server) authenticatedApp(w http.ResponseWriter, r *http.Request) {
	id, err := s.appOf(r)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "A JSON web token could not be decoded", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	s.mu.Lock()
	owner := s.user("acme")
	s.mu.Unlock()
	at := stamp(time.Unix(1600000000, 0))
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "slug": "remediator", "node_id": fmt.Sprintf("A_kwDO%08d", id), "client_id": fmt.Sprintf("Iv1.%016d", id),
		"owner": owner, "name": "remediator", "description": nil, "external_url": "https://remediator.example.com",
		"html_url": "https://github.com/apps/remediator", "created_at": at, "updated_at": at,
		"permissions": map[string]any{"contents": "write", "pull_requests": "write", "statuses": "write", "checks": "read", "issues": "write", "members": "read"},
		"events":      []string{"pull_request", "pull_request_review", "check_run", "check_suite", "status"},
	})
}

// serveGit is smart HTTP through git http-backend, for a known token as password.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	_, pass, ok := r.BasicAuth()
	s.mu.Lock()
	login, known := s.tokens[pass]
	rp := s.repos[r.PathValue("owner")+"/"+strings.TrimSuffix(r.PathValue("repo"), ".git")]
	s.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	if push := strings.HasSuffix(r.URL.Path, "/git-receive-pack") || r.URL.Query().Get("service") == "git-receive-pack"; push && rp != nil {
		s.mu.Lock()
		role := s.roleIn(rp, login)
		s.mu.Unlock()
		if !atLeast(role, RoleWrite) {
			// GitHub refuses a push from an account without write access.
			http.Error(w, "remote: Permission to "+rp.owner+"/"+rp.name+".git denied to "+login+".", http.StatusForbidden)
			return
		}
	}
	s.backend.ServeHTTP(w, r)
	// A push moves the heads of the pull requests from the pushed branches.
	if rp != nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
		s.afterPush(rp, login)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"})
}

func validationFailed(w http.ResponseWriter, errs ...map[string]any) {
	list := make([]any, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": list, "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request", "status": "422"})
}

// sortPulls orders pull requests for a list request: by when they were created or,
// with sort=updated, last updated (GitHub's "created" and "updated"; the others it
// offers are not asked for), the number breaking ties.
func sortPulls(ps []*pull, by string, desc bool) {
	at := func(p *pull) time.Time {
		if by == "updated" {
			return p.updated
		}
		return p.created
	}
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := at(ps[i]), at(ps[j])
		if desc {
			return a.After(b) || a.Equal(b) && ps[i].number > ps[j].number
		}
		return a.Before(b) || a.Equal(b) && ps[i].number < ps[j].number
	})
}
