package github_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
)

func TestGitHubAppInstallation(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	e := newEnv(t, func(o *github.Options) {
		o.Token, o.AppID, o.InstallationID, o.PrivateKey = "", 4242, 77, pemKey
	})
	e.srv.AddApp(4242, &key.PublicKey)
	ctx := context.Background()
	r := request("scale-api-bbbbbbbbbb", "low")
	e.branch(t, r.Branch)
	if _, err := e.forge.Open(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.PullRequests("acme", "infra")); n != 1 {
		t.Fatalf("%d pull requests", n)
	}
	// The App knows itself (GET /app, with its JWT): its pull requests are its own.
	if self, err := e.forge.Self(ctx); err != nil || self != "remediator[bot]" {
		t.Fatalf("self %q %v", self, err)
	}
	// The installation token also pushes over Git.
	tok, err := e.forge.GitToken(ctx)
	if err != nil || !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("git token %q %v", tok, err)
	}
	url := strings.Replace(e.srv.URL, "http://", "http://x-access-token:"+tok+"@", 1) + "/acme/infra.git"
	if out := gittest.Run(t, "", "ls-remote", url, "refs/heads/main"); !strings.Contains(out, "refs/heads/main") {
		t.Fatalf("ls-remote: %s", out)
	}

	// Another App's key is refused.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	bad := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	f, err := github.New(github.Options{Owner: "acme", Repository: "infra", BaseURL: e.srv.URL, AppID: 4242, InstallationID: 77, PrivateKey: bad})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Lookup(ctx, r.Branch); err == nil {
		t.Fatal("a JWT signed by another key was accepted")
	}
}

func TestOptionsErrors(t *testing.T) {
	for name, o := range map[string]github.Options{
		"no owner":        {Repository: "infra", Token: "x"},
		"no credentials":  {Owner: "acme", Repository: "infra"},
		"both":            {Owner: "acme", Repository: "infra", Token: "x", AppID: 1, InstallationID: 2, PrivateKey: []byte("k")},
		"app without key": {Owner: "acme", Repository: "infra", AppID: 1, InstallationID: 2},
		"bad key":         {Owner: "acme", Repository: "infra", AppID: 1, InstallationID: 2, PrivateKey: []byte("not a key")},
	} {
		if _, err := github.New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
