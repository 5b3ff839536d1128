package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// BenchmarkStatusPageBudget is what loading serve's status page costs against
// GitHub's rate limit with N open proposals on the GitHub test server, every one
// opened as the remediator opens them (seedProposals) and read by one full pass of
// serve (so the page has N proposals to show, and shows them). Each measured load
// comes after the page's 5 s snapshot has expired, so it is a load that builds the
// page afresh. The peer is the page before it read the last pass: a dry-run pass of
// its own per load, 2 + 2N counted requests (issue 26).
func BenchmarkStatusPageBudget(b *testing.B) {
	for _, n := range []int{10, 50, 200} {
		b.Run(fmt.Sprintf("open=%d", n), func(b *testing.B) { benchStatusPage(b, n) })
	}
}

func benchStatusPage(b *testing.B, n int) {
	cfg, srv, ids := seedProposals(b, n)
	// Webhooks on, timed passes hourly: one delivery that names no pull request
	// asks for the full pass that puts the N proposals on the page, and no pass
	// runs while the page is loaded.
	data, err := os.ReadFile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	writeFile(b, cfg, strings.Replace(string(data), "  token_env: TEST_GITHUB_TOKEN\n", "  token_env: TEST_GITHUB_TOKEN\n  webhook_secret_env: TEST_WEBHOOK_SECRET\n", 1))
	const secret = "whsec-statuspage"
	b.Setenv("TEST_WEBHOOK_SECRET", secret)
	addr := freeAddr(b)
	stop := startServe(b, cfg, addr, "--reconcile-interval", "1h")
	defer stop()
	if code := deliverGitHub(b, addr, secret, "pull_request", `{"action":"edited"}`); code != http.StatusAccepted {
		b.Fatalf("webhook delivery: %d", code)
	}
	waitShown(b, addr, ids)
	for last := -1; last != srv.Counted(); time.Sleep(2 * time.Second) {
		last = srv.Counted()
	}
	b.Run("peer=before-dry-run-pass-2+2N", func(b *testing.B) {
		for range b.N {
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(float64(2+2*n), "counted/op")
	})
	b.Run("page-load", func(b *testing.B) {
		counted, all := 0, 0
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			time.Sleep(5100 * time.Millisecond) // past the page's snapshot
			c, a := srv.Counted(), len(srv.Exchanges())
			b.StartTimer()
			page := loadPage(b, addr)
			b.StopTimer()
			counted += srv.Counted() - c
			all += len(srv.Exchanges()) - a
			if !strings.Contains(page, ids[n-1]) {
				b.Fatalf("the page lost proposal %s", ids[n-1])
			}
		}
		b.ReportMetric(float64(counted)/float64(b.N), "counted/op")
		b.ReportMetric(float64(all)/float64(b.N), "requests/op")
	})
}

// loadPage is one load of the status page, as a browser makes it.
func loadPage(b *testing.B, addr string) string {
	b.Helper()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("status page: %d %v", resp.StatusCode, err)
	}
	return string(data)
}

// seedProposals opens n proposals on the GitHub test server, one per service, as the
// remediator opens them: one `remediator propose` run of one webhook holding the n
// alerts, with the GitHub forge on the test server (lookup, limits, pull request,
// labels, reviewers) and the remediator's key, which serve then uses too. Only its
// Git transport is a shortcut: it pushes straight into the test server's
// repository, not through git http-backend (where each push would also look at
// every open pull request's head). No serve, so no pass runs over the proposals
// while they are opened. It returns serve's config and the proposals' ids.
func seedProposals(b *testing.B, n int) (cfg string, srv *fakegithub.Server, ids []string) {
	b.Helper()
	cfg, srv, bare := githubSetup(b, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredReviewers = []string{"alice"} })
	work := filepath.Join(b.TempDir(), "w")
	gittest.Run(b, "", "clone", "-q", bare, work)
	alerts := make([]string, n)
	ids = make([]string, n)
	for i := range n {
		service := fmt.Sprintf("api-s%d", i)
		gittest.WriteFile(b, filepath.Join(work, "envs", service+".auto.tfvars"), "replicas = 2\n")
		alerts[i] = fmt.Sprintf(`{"status":"firing","labels":{"alertname":"HighLatency","service":%q,"env":"prod"},"annotations":{"value":"0.9"},"startsAt":"2026-11-24T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"f%d"}`, service, i)
		ids[i] = decision.ID("scale-out-api", "service="+service)
	}
	gittest.Run(b, work, "add", "-A")
	gittest.Run(b, work, "commit", "-qm", "services")
	gittest.Run(b, work, "push", "-q", "origin", "main")
	gittest.Run(b, bare, "config", "receive.autogc", "false") // a gc --auto after each of n pushes
	data, err := os.ReadFile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	limits := fmt.Sprintf("limits: {max_open: %d, per_hour: %d, max_open_per_runbook: %d, per_hour_per_runbook: %d}\n", n, n, n, n)
	writeFile(b, cfg, string(data)+limits)
	// serve's key, made now, signs the proposals.
	key := filepath.Join(filepath.Dir(cfg), "state", "signing_key")
	if err := signing.GenerateKeyFile(key); err != nil {
		b.Fatal(err)
	}
	seed := filepath.Join(filepath.Dir(cfg), "seed.yaml")
	seedCfg := strings.Replace(string(data)+limits, "  repository: "+srv.URL+"/acme/infra.git\n", "  repository: "+bare+"\n", 1)
	seedCfg = strings.Replace(seedCfg, "state_dir: ./state\n", "state_dir: ./state-seed\nsigning:\n  key_file: "+key+"\n", 1)
	writeFile(b, seed, seedCfg)
	body := `{"version":"4","groupKey":"g","truncatedAlerts":0,"status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","alerts":[` + strings.Join(alerts, ",") + `]}`
	code, out, errs := proposeRun(b, seed, body, "--output", "json")
	if code != 0 {
		b.Fatalf("propose: exit %d: %s", code, errs)
	}
	if opened := strings.Count(out, `"action":"opened"`); opened != n || len(srv.PullRequests("acme", "infra")) != n {
		b.Fatalf("propose opened %d proposals (%d pull requests), want %d:\n%s", opened, len(srv.PullRequests("acme", "infra")), n, out)
	}
	return cfg, srv, ids
}

// waitShown waits until the status page shows every proposal.
func waitShown(b *testing.B, addr string, ids []string) {
	b.Helper()
	shown := 0
	waitLong(b, func() string { return fmt.Sprintf("%d proposals on the page (%d shown)", len(ids), shown) }, func() bool {
		page := loadPage(b, addr)
		shown = 0
		for _, id := range ids {
			if strings.Contains(page, id) {
				shown++
			}
		}
		return shown == len(ids)
	})
}

// waitLong is waitFor with room for serve's first pass over a few hundred
// proposals on two loaded cores.
func waitLong(b *testing.B, what func() string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what())
		}
		time.Sleep(2 * time.Second)
	}
}
