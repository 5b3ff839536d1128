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
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

// The guides in docs/guides are programs, and this test runs them. Their convention:
//
//   - a ```sh block runs, in the order of the page, in bash (-euo pipefail); the
//     shell's variables, exports and working directory carry from one block to the
//     next, as when a reader pastes the blocks into one terminal. HOME is a fresh
//     directory, so `~` is the reader's home;
//   - a block preceded by the line `<!-- file: PATH -->` is written to PATH, relative
//     to the working directory the blocks before it left;
//   - `<!-- cwd: checkout -->` before a block runs it in the project's checkout (the
//     install: `go install ./cmd/remediator .`);
//   - any other fenced block fails the test: nothing in a guide goes unchecked.
//
// Host names are the only thing swapped: the Alertmanager of a guide
// (127.0.0.1:9093) is a test server here. A block that fails fails the test, naming
// the guide, the block and its output.
// runGuides are the guides this file runs; guides_static_test.go checks the others.
var runGuides = map[string]bool{"getting-started-git.md": true, "writing-runbooks.md": true}

type guideBlock struct {
	line     int
	lang     string
	file     string // written to this path, when set
	checkout bool   // run in the project's checkout
	text     string
}

var (
	fenceRE     = regexp.MustCompile("(?ms)^```([a-z]*)[^\\n]*\\n(.*?)^```$")
	fileMarkRE  = regexp.MustCompile(`<!-- file: (\S+) -->\s*$`)
	checkMarkRE = regexp.MustCompile(`<!-- cwd: checkout -->\s*$`)
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

func newGuideSession(t *testing.T, swaps map[string]string) *guideSession {
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
	_ = swaps
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
	script := fmt.Sprintf("set -euo pipefail\nsource %q\ncd %q\n%s\nexport -p > %q.new\ndeclare -p 2>/dev/null | grep -E '^declare -- [A-Z_][A-Z0-9_]*=' >> %q.new || true\nmv %q.new %q\npwd > %q\n",
		s.state, cwd, text, s.state, s.state, s.state, s.state, cwdFile)
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

// fakeAlertmanager answers a guide's verification: no alert firing.
func fakeAlertmanager(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "[]")
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// runGuide runs every block of a guide in order and returns how many ran and
// what they printed.
func runGuide(t *testing.T, name string, swaps map[string]string) (int, string) {
	t.Helper()
	root := testenv.ModuleRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "docs", "guides", name))
	if err != nil {
		t.Fatal(err)
	}
	blocks := guideBlocks(t, string(data))
	s := newGuideSession(t, swaps)
	var all strings.Builder
	for i, b := range blocks {
		out, err := s.run(t, b, root, swaps)
		all.WriteString(out)
		if err != nil {
			t.Fatalf("%s:%d: block %d of %d (```%s) failed: %v\n%s\n--- output ---\n%s", name, b.line, i+1, len(blocks), b.lang, err, b.text, out)
		}
		if testing.Verbose() {
			t.Logf("%s:%d: block %d ok\n%s", name, b.line, i+1, out)
		}
	}
	return len(blocks), all.String()
}

func TestGuidePlainGit(t *testing.T) {
	n, out := runGuide(t, "getting-started-git.md", map[string]string{"127.0.0.1:9093": fakeAlertmanager(t)})
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
	s := newGuideSession(t, nil)
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
