// Package giteatest runs a real Gitea for tests: the binary `make gitea` builds into
// .tools/bin, on 127.0.0.1, with SQLite in a temporary directory. One server per
// package run (Main, from TestMain); each test makes its own repositories and users.
//
// A test needing Gitea skips with a clear message when the binary is absent, unless
// REMEDIATOR_REQUIRE_GITEA=1 (CI) says it must be there: then the run fails.
package giteatest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv, set to 1, makes a missing Gitea a failure instead of a skip.
const RequireEnv = "REMEDIATOR_REQUIRE_GITEA"

// BinaryEnv names a Gitea binary to use instead of .tools/bin/gitea.
const BinaryEnv = "REMEDIATOR_GITEA"

// Admin is the site administrator's login: the remediator's account in tests.
const Admin = "remediator"

// password of every test account; tokens are what the tests use.
const password = "Rem3diat0r-test!"

// Server is one running Gitea.
type Server struct {
	// URL is the server's address, http://127.0.0.1:<port>.
	URL string
	// Token is the administrator's API token.
	Token string
	// Started is how long the server took to be ready (migrate, admin, web).
	Started time.Duration
	dir     string
	cmd     *exec.Cmd
	done    chan struct{}
	mu      sync.Mutex
	tokens  map[string]string
}

// errAbsent says the binary is not there.
var errAbsent = errors.New("giteatest: no gitea binary")

// Main starts one Gitea for the package's tests, runs them and stops it: call it
// from TestMain as os.Exit(giteatest.Main(m, &srv)). Without the binary, srv stays
// nil and Need skips each test that needs it (unless RequireEnv is set).
func Main(m *testing.M, srv **Server) int {
	s, err := Start()
	switch {
	case skips(err, os.Getenv(RequireEnv)):
		fmt.Fprintln(os.Stderr, "giteatest:", err, "- tests that need a real Gitea skip (run `make gitea`)")
	case err != nil:
		fmt.Fprintln(os.Stderr, "giteatest: start gitea:", err, "("+RequireEnv+"=1: a missing Gitea fails the run)")
		return 1
	default:
		fmt.Fprintf(os.Stderr, "giteatest: gitea up at %s in %s\n", s.URL, s.Started.Round(time.Millisecond))
		*srv = s
		defer s.Stop()
	}
	return m.Run()
}

// skips says whether a failed start lets the tests skip: only a missing binary, and
// only when the run does not require Gitea.
func skips(err error, require string) bool {
	return errors.Is(err, errAbsent) && require != "1"
}

// Need returns the running server, or skips the test saying why (Main found no
// binary, and RequireEnv is not set, else Main already failed).
func Need(t testing.TB, s *Server) *Server {
	t.Helper()
	if s == nil {
		t.Skip("no gitea binary (.tools/bin/gitea; `make gitea` builds it): this test needs a real Gitea")
	}
	return s
}

// binary finds the Gitea binary: BinaryEnv, else .tools/bin/gitea of the module.
func binary() (string, error) {
	if b := os.Getenv(BinaryEnv); b != "" {
		if _, err := os.Stat(b); err != nil {
			return "", fmt.Errorf("%w at %s (%s)", errAbsent, b, BinaryEnv)
		}
		return b, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	b := filepath.Join(root, ".tools", "bin", "gitea")
	if _, err := os.Stat(b); err != nil {
		return "", fmt.Errorf("%w at %s", errAbsent, b)
	}
	return b, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !strings.Contains(dir, string(filepath.Separator)+"tools"+string(filepath.Separator)) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("giteatest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// staticRoot is Gitea's source tree (its locales and templates): the binary is built
// without bindata, so it reads them from there. The module cache holds it since
// `make gitea` built the binary from it.
func staticRoot() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(context.Background(), "go", "list", "-m", "-f", "{{.Dir}}", "code.gitea.io/gitea")
	cmd.Dir = filepath.Join(root, "tools", "gitea")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		return "", fmt.Errorf("giteatest: find Gitea's source (its locales) in the module cache from tools/gitea: %w", err)
	}
	return dir, nil
}

// Start starts a Gitea: app.ini, `gitea migrate`, the administrator, `gitea web`,
// then waits until the API answers and makes the administrator's token.
func Start() (*Server, error) {
	begin := time.Now()
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	static, err := staticRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tempRoot(), "giteatest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, tokens: map[string]string{}, done: make(chan struct{})}
	if err := s.start(bin, static); err != nil {
		s.Stop()
		return nil, err
	}
	s.Started = time.Since(begin)
	return s, nil
}

func (s *Server) start(bin, static string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	conf := filepath.Join(s.dir, "app.ini")
	if err := os.WriteFile(conf, []byte(appIni(s.dir, static, port)), 0o600); err != nil {
		return err
	}
	run := func(args ...string) error {
		cmd := exec.CommandContext(context.Background(), bin, append([]string{"--config", conf, "--work-path", s.dir}, args...)...)
		cmd.Env = giteaEnv(s.dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("gitea %s: %w\n%s", args[0], err, tail(out))
		}
		return nil
	}
	if err := run("migrate"); err != nil {
		return err
	}
	if err := run("admin", "user", "create", "--admin", "--username", Admin, "--password", password,
		"--email", Admin+"@example.com", "--must-change-password=false"); err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(s.dir, "web.log"))
	if err != nil {
		return err
	}
	s.cmd = exec.CommandContext(context.Background(), bin, "--config", conf, "--work-path", s.dir, "web")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = giteaEnv(s.dir), log, log
	s.cmd.SysProcAttr = dieWithParent()
	if err := s.cmd.Start(); err != nil {
		return err
	}
	go func() { _ = s.cmd.Wait(); _ = log.Close(); close(s.done) }()
	if err := s.waitReady(60 * time.Second); err != nil {
		return err
	}
	s.Token, err = s.newToken(Admin)
	return err
}

func giteaEnv(dir string) []string {
	return append(os.Environ(), "GITEA_WORK_DIR="+dir, "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1")
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

// waitReady polls the version endpoint until Gitea answers or exits.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "web.log"))
			return fmt.Errorf("gitea web exited before it was ready:\n%s", tail(log))
		default:
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, s.URL+"/api/v1/version", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("gitea did not answer on %s within %s", s.URL, limit)
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	_ = os.RemoveAll(s.dir)
}

// tempRoot is where the server's files go: memory when the system has it (SQLite
// syncs every write; on a busy disk that is seconds per request), else the default.
func tempRoot() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

func freePort() (int, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// appIni is a Gitea configured for tests: installed, SQLite, loopback only, no mail,
// no SSH, no cron, in-memory queues (a pull request's mergeability is computed
// shortly after a push, which the tests wait for as the remediator's passes do).
func appIni(dir, static string, port int) string {
	return fmt.Sprintf(`APP_NAME = giteatest
RUN_MODE = prod
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
WORK_PATH = %[1]s
[database]
DB_TYPE = sqlite3
PATH = %[1]s/data/gitea.db
SQLITE_JOURNAL_MODE = WAL
[repository]
ROOT = %[1]s/repos
DEFAULT_BRANCH = main
[server]
STATIC_ROOT_PATH = %[2]s
APP_DATA_PATH = %[1]s/data
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[3]d
ROOT_URL = http://127.0.0.1:%[3]d/
DISABLE_SSH = true
OFFLINE_MODE = true
LFS_START_SERVER = false
[security]
INSTALL_LOCK = true
SECRET_KEY = giteatest-secret-key
PASSWORD_COMPLEXITY = off
MIN_PASSWORD_LENGTH = 8
[oauth2]
ENABLED = false
[log]
MODE = console
LEVEL = warn
ROOT_PATH = %[1]s/log
[service]
DISABLE_REGISTRATION = true
DEFAULT_ALLOW_CREATE_ORGANIZATION = true
[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 5
[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false
[queue]
TYPE = channel
[cron]
ENABLED = false
[session]
PROVIDER = memory
[cache]
ADAPTER = memory
[mailer]
ENABLED = false
[actions]
ENABLED = false
`, dir, static, port)
}

// API sends one request as login (its token; basic auth with the test password to
// make the token) and decodes a 2xx answer into out. A non-2xx answer is an error
// naming the status and Gitea's message.
func (s *Server) API(ctx context.Context, login, method, path string, in, out any) error {
	token := ""
	if login != "" {
		s.mu.Lock()
		token = s.tokens[login]
		s.mu.Unlock()
		if login == Admin && token == "" {
			token = s.Token
		}
	}
	return s.call(ctx, method, path, in, out, func(r *http.Request) {
		if token != "" {
			r.Header.Set("Authorization", "token "+token)
		} else if login != "" {
			r.SetBasicAuth(login, password)
		}
	})
}

func (s *Server) call(ctx context.Context, method, path string, in, out any, auth func(*http.Request)) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+"/api/v1"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	auth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("gitea %s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// newToken makes an API token for login with every scope, by basic auth.
func (s *Server) newToken(login string) (string, error) {
	var tok struct {
		SHA1 string `json:"sha1"`
	}
	name := fmt.Sprintf("t%d", time.Now().UnixNano())
	err := s.call(context.Background(), http.MethodPost, "/users/"+login+"/tokens", map[string]any{"name": name, "scopes": []string{"all"}}, &tok,
		func(r *http.Request) { r.SetBasicAuth(login, password) })
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.tokens[login] = tok.SHA1
	s.mu.Unlock()
	return tok.SHA1, nil
}

// User makes an account (once per server) and returns its API token.
func (s *Server) User(t testing.TB, login string) string {
	t.Helper()
	s.mu.Lock()
	tok, ok := s.tokens[login]
	s.mu.Unlock()
	if ok {
		return tok
	}
	err := s.API(context.Background(), Admin, http.MethodPost, "/admin/users", map[string]any{
		"username": login, "email": login + "@example.com", "password": password, "must_change_password": false}, nil)
	if err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	tok, err = s.newToken(login)
	if err != nil {
		t.Fatalf("token of %s: %v", login, err)
	}
	return tok
}

// Repo makes a repository owned by the administrator, initialised with a README on
// main, and returns its name.
func (s *Server) Repo(t testing.TB, name string) string {
	t.Helper()
	err := s.API(context.Background(), Admin, http.MethodPost, "/user/repos", map[string]any{
		"name": name, "auto_init": true, "default_branch": "main", "private": false}, nil)
	if err != nil {
		t.Fatalf("create repository %s: %v", name, err)
	}
	return name
}

// Collaborator gives login a permission (read, write, admin) on the administrator's
// repository.
func (s *Server) Collaborator(t testing.TB, repo, login, permission string) {
	t.Helper()
	s.User(t, login)
	if err := s.API(context.Background(), Admin, http.MethodPut, "/repos/"+Admin+"/"+repo+"/collaborators/"+login,
		map[string]any{"permission": permission}, nil); err != nil {
		t.Fatalf("make %s a %s collaborator of %s: %v", login, permission, repo, err)
	}
}

// CloneURL is the repository's https-style Git address with login's token in it.
func (s *Server) CloneURL(login, repo string) string {
	s.mu.Lock()
	tok := s.tokens[login]
	s.mu.Unlock()
	if login == Admin {
		tok = s.Token
	}
	return strings.Replace(s.URL, "http://", "http://"+login+":"+tok+"@", 1) + "/" + Admin + "/" + repo + ".git"
}

// Shared is one Gitea for a package whose tests mostly do not need it: started by
// the first test that asks (Need), stopped by TestMain after the run (Stop).
type Shared struct {
	once sync.Once
	s    *Server
	err  error
}

// Need starts the server on first use and returns it; it skips the test when the
// binary is absent (unless RequireEnv is set) and fails it when Gitea cannot start.
func (sh *Shared) Need(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(func() { sh.s, sh.err = Start() })
	switch {
	case sh.err != nil && skips(sh.err, os.Getenv(RequireEnv)):
		t.Skipf("%v: this test needs a real Gitea (`make gitea` builds it)", sh.err)
	case sh.err != nil:
		t.Fatalf("start gitea: %v", sh.err)
	}
	return sh.s
}

// Stop stops the server if a test started it.
func (sh *Shared) Stop() {
	if sh.s != nil {
		sh.s.Stop()
	}
}

// File commits a file on branch as login through the contents API (a commit login
// authored and pushed), making the branch from base when base is not empty, and
// returns the new head.
func (s *Server) File(t testing.TB, login, repo, branch, base, path, content string) string {
	t.Helper()
	body := map[string]any{"content": base64.StdEncoding.EncodeToString([]byte(content)), "message": "change " + path, "branch": branch}
	if base != "" {
		body["branch"], body["new_branch"] = base, branch
	}
	var out struct {
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	if err := s.API(context.Background(), login, http.MethodPost, "/repos/"+Admin+"/"+repo+"/contents/"+path, body, &out); err != nil {
		t.Fatalf("commit %s on %s as %s: %v", path, branch, login, err)
	}
	return out.Commit.SHA
}
