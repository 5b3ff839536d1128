package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

const gitlabSecret = "gl-s3cret"

// TestGitLabWebhookVerifiesAndNamesTargets: only a delivery carrying the secret in
// X-Gitlab-Token asks for a pass; merge request (approvals included), note and
// pipeline events name what to look at; anything else, or a wrong token, asks for
// nothing.
func TestGitLabWebhookVerifiesAndNamesTargets(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	mr := `{"object_kind":"merge_request","object_attributes":{"iid":7,"action":"approved","last_commit":{"id":"` + sha + `"}}}`
	note := `{"object_kind":"note","object_attributes":{"id":1,"note":"lgtm"},"merge_request":{"iid":7,"last_commit":{"id":"` + sha + `"}}}`
	pipeline := `{"object_kind":"pipeline","object_attributes":{"id":3,"sha":"ABCDEF0123456","status":"success"},"merge_request":{"iid":7}}`
	cases := []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		want    *forge.Target
	}{
		{"approval", map[string]string{"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": gitlabSecret}, mr, http.StatusAccepted, &forge.Target{Number: 7, Commit: sha}},
		{"note", map[string]string{"X-Gitlab-Event": "Note Hook", "X-Gitlab-Token": gitlabSecret}, note, http.StatusAccepted, &forge.Target{Number: 7, Commit: sha}},
		{"pipeline", map[string]string{"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": gitlabSecret}, pipeline, http.StatusAccepted, &forge.Target{Number: 7, Commit: "abcdef0123456"}},
		{"push is no decision", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": gitlabSecret}, `{}`, http.StatusAccepted, nil},
		{"no token", map[string]string{"X-Gitlab-Event": "Merge Request Hook"}, mr, http.StatusUnauthorized, nil},
		{"wrong token", map[string]string{"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": "guess"}, mr, http.StatusUnauthorized, nil},
		{"token's prefix", map[string]string{"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": gitlabSecret[:4]}, mr, http.StatusUnauthorized, nil},
		{"token and more", map[string]string{"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": gitlabSecret + "x"}, mr, http.StatusUnauthorized, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []forge.Target
			h := New(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 20, Now: time.Now, Ready: func() error { return nil },
				GitLabWebhookSecret: gitlabSecret, OnGitLabEvent: func(_ string, tg forge.Target) { mu.Lock(); got = append(got, tg); mu.Unlock() }})
			req := httptest.NewRequest(http.MethodPost, "/v1/gitlab", strings.NewReader(tc.body))
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

// TestGitLabWebhookOffWithoutSecret: no secret configured, no route; an empty token
// never matches.
func TestGitLabWebhookOffWithoutSecret(t *testing.T) {
	h := New(Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 20, Now: time.Now, Ready: func() error { return nil }})
	req := httptest.NewRequest(http.MethodPost, "/v1/gitlab", strings.NewReader(`{}`))
	req.Header.Set("X-Gitlab-Token", "")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
	if sameSecret("", "") {
		t.Fatal("an empty token matched an empty secret")
	}
}

func FuzzGitLabTarget(f *testing.F) {
	f.Add("Merge Request Hook", []byte(`{"object_attributes":{"iid":7,"last_commit":{"id":"abcdef0"}}}`))
	f.Add("Merge Request Hook", []byte(`{"object_attributes":{"iid":-3,"last_commit":{"id":"../../etc"}}}`))
	f.Add("Note Hook", []byte(`{"merge_request":{"iid":2,"last_commit":{"id":"ABCDEF0123"}}}`))
	f.Add("Note Hook", []byte(`{"merge_request":null}`))
	f.Add("Pipeline Hook", []byte(`{"object_attributes":{"sha":"0123456789abcdef0123456789abcdef01234567"},"merge_request":{"iid":-1}}`))
	f.Add("Pipeline Hook", []byte(`not json`))
	f.Add("Push Hook", []byte(`{"object_attributes":{"iid":9}}`))
	// Whatever a delivery carries, reading it never panics, points only at a
	// non-negative merge request number, and names a commit only by a lower-case hex
	// hash.
	f.Fuzz(func(t *testing.T, event string, payload []byte) {
		got := gitlabTarget(event, payload)
		if got.Number < 0 {
			t.Fatalf("negative merge request %+v", got)
		}
		if got.Commit != "" && (strings.Trim(got.Commit, "0123456789abcdef") != "" || len(got.Commit) < 7) {
			t.Fatalf("commit %q is not a hash", got.Commit)
		}
	})
}
