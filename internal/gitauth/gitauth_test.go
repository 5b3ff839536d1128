package gitauth

import (
	"strings"
	"testing"
)

func TestRedactURLHidesTokens(t *testing.T) {
	for in, want := range map[string]string{
		"https://x-access-token:ghs_secret@github.example.com/acme/catalog.git": "https://x-access-token:REDACTED@github.example.com/acme/catalog.git",
		"https://ghp_secret@github.example.com/acme/catalog.git":                "https://REDACTED@github.example.com/acme/catalog.git",
		"ssh://git@github.example.com/acme/catalog.git":                         "ssh://git@github.example.com/acme/catalog.git",
		"/srv/git/catalog.git": "/srv/git/catalog.git",
	} {
		if got := RedactURL(in); got != want || strings.Contains(got, "secret") {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEndpoint: each protocol gets the credentials it uses and no other; a local
// path is made absolute; an unusable key or protocol is an error that carries no
// secret.
func TestEndpoint(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, repo, token, key string
		wantAuth               string // the auth method's name, "" for none
		wantErr                string
	}{
		{name: "local path", repo: dir, token: "s3cret"},
		{name: "file url", repo: "file://" + dir, token: "s3cret"},
		{name: "https with token", repo: "https://127.0.0.1/acme/infra.git", token: "s3cret", wantAuth: "http-basic-auth"},
		{name: "https without token", repo: "https://127.0.0.1/acme/infra.git"},
		{name: "ssh without key uses the agent", repo: "ssh://git@127.0.0.1/acme/infra.git", token: "s3cret"},
		{name: "ssh with a bad key", repo: "git@127.0.0.1:acme/infra.git", key: "-----BEGIN s3cret-----", wantErr: "ssh private key"},
		{name: "empty", repo: "  ", wantErr: "repository is empty"},
		{name: "unsupported protocol", repo: "ftp://user:s3cret@127.0.0.1/x", wantErr: "unsupported protocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, auth, err := Endpoint(tc.repo, tc.token, tc.key)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error leaks a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(url, "://") && !strings.HasPrefix(url, "/") {
				t.Errorf("url %q is neither a URL nor an absolute path", url)
			}
			got := ""
			if auth != nil {
				got = auth.Name()
			}
			if got != tc.wantAuth {
				t.Errorf("auth = %q, want %q", got, tc.wantAuth)
			}
		})
	}
}
