package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

// The guides in docs/guides are programs, and this test runs them. Their convention:
//
//   - a ```sh block runs, in the order of the page, in bash (-euo pipefail); the
//     shell's variables, functions, exports and working directory carry from one block to the
//     next, as when a reader pastes the blocks into one terminal. HOME is a fresh
//     directory, so `~` is the reader's home;
//   - a block preceded by the line `<!-- file: PATH -->` is written to PATH, relative
//     to the working directory the blocks before it left;
//   - `<!-- cwd: checkout -->` before a block runs it in the project's checkout (the
//     install: `go install ./cmd/remediator .`);
//   - `<!-- alternative: NAME -->` before a block marks another way to the same
//     place (installing from the release archives): it does not run in the page's
//     order, but in a test of its own (TestGuideReleaseInstall);
//   - any other fenced block fails the test: nothing in a guide goes unchecked.
//
// Host names are the only thing swapped: the Alertmanager of a guide
// (127.0.0.1:9093) is a test server here, and so is GitHub (github.com and
// api.github.com) in the GitHub guide; what a reader does on GitHub's pages (the
// repositories, the App, its key and webhook, their tokens) the test does
// before the first block, as the guide lists it. A block that fails fails the test, naming
// the guide, the block and its output.
// runGuides are the guides the tests run: every guide (TestEveryGuideRuns).
var runGuides = map[string]bool{"getting-started-git.md": true, "writing-runbooks.md": true, "getting-started-github.md": true, "operating.md": true,
	"getting-started-gitea.md": true, "getting-started-gitlab.md": true}

type guideBlock struct {
	line     int
	lang     string
	file     string // written to this path, when set
	checkout bool   // run in the project's checkout
	alt      string // another way, run by a test of its own
	text     string
}

var (
	fenceRE     = regexp.MustCompile("(?ms)^```([a-z]*)[^\\n]*\\n(.*?)^```$")
	fileMarkRE  = regexp.MustCompile(`<!-- file: (\S+) -->\s*$`)
	checkMarkRE = regexp.MustCompile(`<!-- cwd: checkout -->\s*$`)
	altMarkRE   = regexp.MustCompile(`<!-- alternative: (\S+) -->\s*$`)
)

// guideBlocks reads a guide's fenced blocks and what the line before each says.
func guideBlocks(t *testing.T, data string) []guideBlock {
	t.Helper()
	var out []guideBlock
	for _, m := range fenceRE.FindAllStringSubmatchIndex(data, -1) {
		before := strings.TrimRight(data[:m[0]], "\n")
		prev := before[strings.LastIndex(before, "\n")+1:]
		b := guideBlock{line: strings.Count(data[:m[0]], "\n") + 1, lang: data[m[2]:m[3]], text: data[m[4]:m[5]]}
		if f := fileMarkRE.FindStringSubmatch(prev); f != nil {
			b.file = f[1]
		}
		b.checkout = checkMarkRE.MatchString(prev)
		if a := altMarkRE.FindStringSubmatch(prev); a != nil {
			b.alt = a[1]
		}
		if b.file == "" && b.lang != "sh" {
			t.Errorf("line %d: a ```%s block neither runs (```sh) nor is written (<!-- file: PATH -->)", b.line, b.lang)
		}
		out = append(out, b)
	}
	return out
}

// guideSession is one reader's terminal: a home, a state file the shell's
// variables and working directory are kept in between blocks.
type guideSession struct {
	home, state, cwd string
	env              []string
}

func newGuideSession(t *testing.T, env ...string) *guideSession {
	t.Helper()
	home := t.TempDir()
	s := &guideSession{home: home, state: filepath.Join(t.TempDir(), "state.sh"), cwd: home}
	writeFile(t, s.state, "")
	gocache, _ := exec.Command("go", "env", "GOCACHE").Output()
	gomod, _ := exec.Command("go", "env", "GOMODCACHE").Output()
	s.env = []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8",
		// The reader's own Go caches; no -race in what the guide builds.
		"GOCACHE=" + strings.TrimSpace(string(gocache)), "GOMODCACHE=" + strings.TrimSpace(string(gomod)), "GOFLAGS=", "GOTOOLCHAIN=local",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=guide", "GIT_AUTHOR_EMAIL=guide@example.com",
		"GIT_COMMITTER_NAME=guide", "GIT_COMMITTER_EMAIL=guide@example.com",
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
	}
	s.env = append(s.env, env...)
	t.Cleanup(s.stopServe)
	return s
}

// run runs one block; its output comes back for the failure message.
func (s *guideSession) run(t *testing.T, b guideBlock, root string, swaps map[string]string) (string, error) {
	t.Helper()
	text := b.text
	for from, to := range swaps {
		text = strings.ReplaceAll(text, from, to)
	}
	if b.file != "" {
		path := b.file
		if !filepath.IsAbs(path) {
			path = filepath.Join(s.cwd, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		return "", os.WriteFile(path, []byte(text), 0o644)
	}
	cwd := s.cwd
	if b.checkout {
		cwd = root
	}
	cwdFile := s.state + ".cwd"
	script := fmt.Sprintf("set -euo pipefail\nsource %q\ncd %q\n%s\nexport -p > %q.new\ndeclare -p 2>/dev/null | grep -E '^declare -- [A-Z_][A-Z0-9_]*=' >> %q.new || true\ndeclare -f >> %q.new\nmv %q.new %q\npwd > %q\n",
		s.state, cwd, text, s.state, s.state, s.state, s.state, s.state, cwdFile)
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = cwd
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil && !b.checkout {
		if d, rerr := os.ReadFile(cwdFile); rerr == nil {
			s.cwd = strings.TrimSpace(string(d))
		}
	}
	return out.String(), err
}

var servePIDRE = regexp.MustCompile(`(?m)^declare -- SERVE="?([0-9]+)"?$`)

// stopServe ends a `remediator serve` a guide left running ($SERVE) when a block
// failed before the guide's own `kill`: nothing outlives the test.
func (s *guideSession) stopServe() {
	data, err := os.ReadFile(s.state)
	if err != nil {
		return
	}
	if m := servePIDRE.FindSubmatch(data); m != nil {
		if pid, err := strconv.Atoi(string(m[1])); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	}
}

// fakeAlertmanager answers a guide's verification: no alert firing. With
// firing, it is also up for an hour (past the restart grace, so its word counts)
// and lists the guide's alert as active while firing() says so.
func fakeAlertmanager(t *testing.T, firing func() bool) string {
	t.Helper()
	up := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case firing != nil && r.URL.Path == "/api/v2/status":
			_, _ = io.WriteString(w, `{"uptime": "`+up+`"}`)
		case firing != nil && r.URL.Path == "/api/v2/alerts" && firing():
			_, _ = io.WriteString(w, `[{"labels": {"alertname": "HighLatency", "service": "api-gateway", "env": "prod"}, "status": {"state": "active"}}]`)
		default:
			_, _ = io.WriteString(w, "[]")
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// guideRun is how a guide runs: the host names swapped, what the reader's
// terminal holds before the first block (env), and what the reader did outside
// it before (prepare, given the home directory).
type guideRun struct {
	swaps   map[string]string
	env     []string
	prepare func(home string)
	// logs are files (relative to the home) shown when a block fails: serve's log.
	logs []string
}

// runGuide runs every block of a guide in order and returns how many ran and
// what they printed.
func runGuide(t *testing.T, name string, swaps map[string]string) (int, string) {
	t.Helper()
	return runGuideWith(t, name, guideRun{swaps: swaps})
}

// runGuideWith runs the guides' blocks in order in one terminal: a guide that goes
// on from another runs after it.
func runGuideWith(t *testing.T, name string, g guideRun, then ...string) (int, string) {
	t.Helper()
	root := testenv.ModuleRoot(t)
	s := newGuideSession(t, g.env...)
	if g.prepare != nil {
		g.prepare(s.home)
	}
	var all strings.Builder
	ran := 0
	for _, name := range append([]string{name}, then...) {
		data, err := os.ReadFile(filepath.Join(root, "docs", "guides", name))
		if err != nil {
			t.Fatal(err)
		}
		blocks := guideBlocks(t, string(data))
		for i, b := range blocks {
			if b.alt != "" {
				continue
			}
			out, err := s.run(t, b, root, g.swaps)
			all.WriteString(out)
			if err != nil {
				s.showLogs(t, g.logs)
				t.Fatalf("%s:%d: block %d of %d (```%s) failed: %v\n%s\n--- output ---\n%s", name, b.line, i+1, len(blocks), b.lang, err, b.text, out)
			}
			ran++
			if testing.Verbose() {
				t.Logf("%s:%d: block %d ok\n%s", name, b.line, i+1, out)
			}
		}
	}
	return ran, all.String()
}

// showLogs shows the files a failed block may be explained by.
func (s *guideSession) showLogs(t *testing.T, logs []string) {
	t.Helper()
	for _, l := range logs {
		if d, err := os.ReadFile(filepath.Join(s.home, l)); err == nil {
			t.Logf("--- %s ---\n%s", l, d)
		}
	}
}

func TestGuidePlainGit(t *testing.T) {
	n, out := runGuide(t, "getting-started-git.md", map[string]string{"127.0.0.1:9093": fakeAlertmanager(t, nil)})
	t.Logf("getting-started-git.md: %d blocks ran", n)
	// What the guide says happens, happens.
	for _, want := range []string{
		"approvals required: 1,", "opened: remediation/scale-out-api-", "plan-check: passed", "by alice@example.com: 1 approval(s) on this commit",
		"merged: remediation/scale-out-api-", "replicas      = 8", "merged, being verified (1)", "soaking since",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the guide's output lacks %q", want)
		}
	}
}

// A block that fails fails the guide: the runner is not a test that cannot fail.
func TestGuideRunnerFailsOnAFailingBlock(t *testing.T) {
	s := newGuideSession(t)
	if out, err := s.run(t, guideBlock{lang: "sh", text: "X=1\ncd /\n"}, t.TempDir(), nil); err != nil {
		t.Fatalf("a good block: %v %s", err, out)
	}
	if out, err := s.run(t, guideBlock{lang: "sh", text: "test \"$X\" = 1 && pwd\n"}, t.TempDir(), nil); err != nil || strings.TrimSpace(out) != "/" {
		t.Fatalf("state did not carry: %v %q", err, out)
	}
	if _, err := s.run(t, guideBlock{lang: "sh", text: "false\necho never\n"}, t.TempDir(), nil); err == nil {
		t.Fatal("a failing block passed")
	}
	bad := guideBlocks(&testing.T{}, "```hcl\nx = 1\n```\n")
	if len(bad) != 1 || bad[0].file != "" {
		t.Fatalf("%+v", bad)
	}
}

func TestGuideWritingRunbooks(t *testing.T) {
	n, out := runGuide(t, "writing-runbooks.md", nil)
	t.Logf("writing-runbooks.md: %d blocks ran", n)
	for _, want := range []string{"Apply complete! Resources: 2 added", "1 passed, 0 failed", "acting: raise-queue-workers (risk low"} {
		if !strings.Contains(out, want) {
			t.Errorf("the guide's output lacks %q", want)
		}
	}
}

// Every guide runs: a new page in docs/guides must join runGuides and a test that
// runs it, or this fails.
func TestEveryGuideRuns(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.ModuleRoot(t), "docs", "guides", "*.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("guides: %v %v", files, err)
	}
	for _, f := range files {
		if !runGuides[filepath.Base(f)] {
			t.Errorf("%s: no test runs this guide", filepath.Base(f))
		}
	}
}
