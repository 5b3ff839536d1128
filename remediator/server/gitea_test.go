package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

const giteaSecret = "s3cret"

func giteaSign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// TestGiteaWebhookVerifiesAndNamesTargets: only a delivery signed with the secret
// (Gitea's X-Gitea-Signature, or X-Hub-Signature-256) asks for a pass; a review,
// under Gitea's own event names, names its pull request; a forged or unsigned one
// is refused and asks for nothing.
func TestGiteaWebhookVerifiesAndNamesTargets(t *testing.T) {
	pr := `{"action":"reviewed","number":7,"pull_request":{"number":7,"head":{"sha":"0123456789abcdef0123456789abcdef01234567"}},"review":{"type":"pull_request_review_approved"}}`
	good := giteaSign(giteaSecret, pr)
	cases := []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		want    *forge.Target
	}{
		{"approved, X-Gitea-Signature", map[string]string{"X-Gitea-Event": "pull_request_approved", "X-Gitea-Signature": good}, pr, http.StatusAccepted,
			&forge.Target{Number: 7, Commit: "0123456789abcdef0123456789abcdef01234567"}},
		{"rejected, X-Hub-Signature-256 only", map[string]string{"X-Gitea-Event": "pull_request_rejected", "X-Hub-Signature-256": "sha256=" + good}, pr, http.StatusAccepted,
			&forge.Target{Number: 7, Commit: "0123456789abcdef0123456789abcdef01234567"}},
		{"review comment by event type", map[string]string{"X-Gitea-Event": "pull_request_comment", "X-Gitea-Event-Type": "pull_request_review_comment", "X-Gitea-Signature": good}, pr, http.StatusAccepted,
			&forge.Target{Number: 7, Commit: "0123456789abcdef0123456789abcdef01234567"}},
		{"status", map[string]string{"X-Gitea-Event": "status", "X-Gitea-Signature": giteaSign(giteaSecret, `{"sha":"ABCDEF0123456"}`)}, `{"sha":"ABCDEF0123456"}`, http.StatusAccepted,
			&forge.Target{Commit: "abcdef0123456"}},
		{"push is no decision", map[string]string{"X-Gitea-Event": "push", "X-Gitea-Signature": giteaSign(giteaSecret, `{}`)}, `{}`, http.StatusAccepted, nil},
		{"unsigned", map[string]string{"X-Gitea-Event": "pull_request_approved"}, pr, http.StatusUnauthorized, nil},
		{"wrong secret", map[string]string{"X-Gitea-Event": "pull_request_approved", "X-Gitea-Signature": giteaSign("guess", pr)}, pr, http.StatusUnauthorized, nil},
		{"body changed after signing", map[string]string{"X-Gitea-Event": "pull_request_approved", "X-Gitea-Signature": good}, strings.Replace(pr, `"number":7`, `"number":8`, 2), http.StatusUnauthorized, nil},
		{"one good, one forged signature", map[string]string{"X-Gitea-Event": "pull_request_approved", "X-Gitea-Signature": good, "X-Hub-Signature-256": "sha256=" + giteaSign("guess", pr)}, pr, http.StatusUnauthorized, nil},
		{"hub signature without its prefix", map[string]string{"X-Gitea-Event": "pull_request_approved", "X-Hub-Signature-256": good}, pr, http.StatusUnauthorized, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []forge.Target
			h := New(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 20, Now: time.Now, Ready: func() error { return nil },
				GiteaWebhookSecret: giteaSecret, OnGiteaEvent: func(_ string, tg forge.Target) { mu.Lock(); got = append(got, tg); mu.Unlock() }})
			req := httptest.NewRequest(http.MethodPost, "/v1/gitea", strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			switch {
			case tc.want == nil && len(got) != 0:
				t.Fatalf("asked for a pass of %+v", got)
			case tc.want != nil && (len(got) != 1 || got[0] != *tc.want):
				t.Fatalf("targets %+v, want %+v", got, *tc.want)
			}
		})
	}
}

// TestGiteaWebhookOffWithoutSecret: no secret configured, no route.
func TestGiteaWebhookOffWithoutSecret(t *testing.T) {
	h := New(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 20, Now: time.Now, Ready: func() error { return nil }})
	req := httptest.NewRequest(http.MethodPost, "/v1/gitea", strings.NewReader(`{}`))
	req.Header.Set("X-Gitea-Signature", giteaSign("", `{}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
}

func FuzzGiteaTarget(f *testing.F) {
	f.Add("pull_request", []byte(`{"number":7,"pull_request":{"number":7,"head":{"sha":"abcdef0"}}}`))
	f.Add("pull_request_approved", []byte(`{"pull_request":{"number":-1}}`))
	f.Add("status", []byte(`{"sha":"../../etc"}`))
	f.Add("status", []byte(`not json`))
	// Whatever a delivery carries, reading it never panics, points only at a
	// positive pull request number, and names a commit only by a lower-case hex hash.
	f.Fuzz(func(t *testing.T, event string, payload []byte) {
		got := giteaTarget(event, payload)
		if got.Number < 0 {
			t.Fatalf("negative pull request %+v", got)
		}
		if got.Commit != "" && strings.Trim(got.Commit, "0123456789abcdef") != "" {
			t.Fatalf("commit %q is not a hash", got.Commit)
		}
	})
}
