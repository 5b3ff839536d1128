package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
)

// The GitHub guide runs as written against the GitHub test server, with serve in
// the background: only github.com, api.github.com, the Alertmanager and serve's
// own address are swapped. What the guide's section 2 asks of the reader on
// GitHub's pages is done here first: the two empty repositories, the reader's and
// CI's tokens, the team, the App (ID 12345) with its key in ~/remediation/app.pem,
// and its webhook with the secret in ~/remediation/webhook-secret.
func TestGuideGitHub(t *testing.T) {
	// operating.md goes on where this guide ends (see its first paragraph).
	const you, ci = "ghp_guideReaderToken0001", "ghs_guideActionsToken0001"
	srv := fakegithub.New(t)
	srv.AddToken(you, "you")
	srv.AddToken(ci, "github-actions[bot]")
	srv.AddTeam("acme", "sre")
	srv.AddTeamMember("acme", "sre", "you")
	srv.CreateRepo("acme", "infra", nil)
	srv.CreateRepo("acme", "remediation-catalog", nil)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddApp(12345, &key.PublicKey)
	addr := freeAddr(t)
	const secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	srv.Hook("http://"+addr+"/v1/github", secret)
	t.Cleanup(func() { srv.CheckSpec(t) })

	receiver := fakeReceiver(t)
	// The alert fires until the remediation is merged (and then applied, in the
	// guide): before, the remediator must not close the proposal as resolved.
	firingUntilMerged := func() bool {
		prs := srv.PullRequests("acme", "infra")
		return len(prs) == 0 || !prs[0].Merged
	}
	n, out := runGuideWith(t, "getting-started-github.md", guideRun{
		swaps: map[string]string{
			"https://api.github.com": srv.URL + "/api/v3", "https://github.com": srv.URL,
			"127.0.0.1:9093": fakeAlertmanager(t, firingUntilMerged), "127.0.0.1:8080": addr,
			// The operating guide's trace collector and notification receivers.
			"otel-collector.monitoring:4318": strings.TrimPrefix(receiver.URL, "http://"),
			"https://hooks.slack.com":        receiver.URL, "https://acme.webhook.office.com": receiver.URL,
			"https://incident.example.com": receiver.URL,
		},
		env:  []string{"GITHUB_TOKEN=" + you, "CI_TOKEN=" + ci},
		logs: []string{"remediation/serve.log"},
		prepare: func(home string) {
			writeFile(t, filepath.Join(home, "remediation", "app.pem"),
				string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
			writeFile(t, filepath.Join(home, "remediation", "webhook-secret"), secret+"\n")
		},
	}, "operating.md")
	t.Logf("getting-started-github.md and operating.md: %d blocks ran", n)
	for _, want := range []string{
		"approvals required: 1,", "pull request #1: remediation/scale-out-api-", "plan-check: passed",
		"replicas      = 8", "merged, being verified (1)", "soaking since",
		// operating.md, after it
		"remediator_notifications_queued", "| scale-out-api", "is valid: 1 runbook(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the guide's output lacks %q", want)
		}
	}
	prs := srv.PullRequests("acme", "infra")
	if len(prs) != 1 || !prs[0].Merged {
		t.Fatalf("pull requests after the guide: %+v", prs)
	}
}

// fakeReceiver answers every request 200: an OTLP collector, Slack, Teams and a
// webhook receiver, as far as a guide needs one.
func fakeReceiver(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv
}
