package catalogstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// gitHTTPServer serves the bare repositories under root over smart HTTP with the real
// git http-backend, on loopback, accepting only the given token as the password.
func gitHTTPServer(t *testing.T, root, token string) *httptest.Server {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=ci"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pass, ok := r.BasicAuth(); !ok || pass != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPSWithToken(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	gittest.Run(t, repo, "config", "http.receivepack", "true")
	const token = "ghs_s3cr3tT0ken"
	srv := gitHTTPServer(t, filepath.Dir(repo), token)
	url := srv.URL + "/" + filepath.Base(repo)

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := catalogstore.Open(ctx, catalogstore.Options{Repository: url, Token: token, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, runbook("over-http")); err != nil {
		t.Fatal(err)
	}
	if got := gittest.Run(t, repo, "log", "-1", "--format=%s", "main"); got != "runbook: add over-http" {
		t.Fatalf("commit %q", got)
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := snap.Get(runbooks.KindRunbook, "over-http"); err != nil || !found {
		t.Fatalf("read back: found=%v err=%v", found, err)
	}

	// A wrong token is refused with an error that does not carry either token.
	_, err = catalogstore.Open(ctx, catalogstore.Options{Repository: url, Token: "wrong-token-value", Logger: logger})
	if err == nil {
		t.Fatal("wrong token accepted")
	}
	for _, secret := range []string{token, "wrong-token-value"} {
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Fatalf("a token leaked: err=%v logs=%s", err, logs.String())
		}
	}
}

func TestFileURL(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	s, err := catalogstore.Open(ctx, catalogstore.Options{Repository: "file://" + repo, Branch: "catalog", Directory: "remediation"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, runbook("via-file-url")); err != nil {
		t.Fatal(err)
	}
	if out := gittest.Run(t, repo, "ls-tree", "-r", "--name-only", "catalog"); out != "remediation/runbooks/via-file-url.yaml" {
		t.Fatalf("tree of branch catalog: %q", out)
	}
}
