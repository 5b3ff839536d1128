package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// gauge is the metric the test exposes for Prometheus to scrape.
type gauge struct {
	mu sync.Mutex
	v  float64
}

func (g *gauge) set(v float64) { g.mu.Lock(); g.v = v; g.mu.Unlock() }

func (g *gauge) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fmt.Fprintf(w, "# TYPE demo_latency_seconds gauge\ndemo_latency_seconds{service=\"api-gateway\",env=\"prod\"} %g\n", g.v)
}

// startDaemon runs a real Prometheus or Alertmanager (Debian's packages) on loopback
// until the test ends; it fails the test when the binary is missing.
func startDaemon(t *testing.T, bin string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s is not installed (Debian package; .ci/run installs it): %v", bin, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, args...)
	logs := &syncWriter{w: &strings.Builder{}}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s logs:\n%s", bin, logs.w.(*strings.Builder).String())
		}
	})
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	waitFor(t, url, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// monitoring starts the metric, Prometheus with the HighLatency rule, and Alertmanager
// posting to the remediator at serveAddr; it returns their URLs.
func monitoring(t *testing.T, g *gauge, serveAddr string) (promURL, amURL string) {
	t.Helper()
	dir := t.TempDir()
	target := httptest.NewServer(g)
	t.Cleanup(target.Close)
	promAddr, amAddr := freeAddr(t), freeAddr(t)
	writeFile(t, filepath.Join(dir, "rules.yml"), `groups:
  - name: demo
    interval: 1s
    rules:
      - alert: HighLatency
        expr: demo_latency_seconds > 0.5
        annotations:
          value: "{{ $value }}"
`)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: [%q]
`, filepath.Join(dir, "rules.yml"), amAddr, strings.TrimPrefix(target.URL, "http://")))
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), fmt.Sprintf(`route:
  receiver: remediator
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: remediator
    webhook_configs:
      - url: http://%s/v1/alertmanager
        send_resolved: true
`, serveAddr))
	startDaemon(t, "prometheus-alertmanager", "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "am"), "--web.listen-address="+amAddr, "--cluster.listen-address=")
	startDaemon(t, "prometheus", "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prom"), "--web.listen-address="+promAddr)
	promURL, amURL = "http://"+promAddr, "http://"+amAddr
	waitHTTP(t, promURL+"/-/ready")
	waitHTTP(t, amURL+"/-/ready")
	return promURL, amURL
}

// loop runs the whole local loop with real monitoring: a real alert fires, Alertmanager
// posts it to serve, the proposal is approved and merged; then the metric does what
// the test says and reconcile records the outcome.
func loop(t *testing.T, within time.Duration, recovers bool) (cfg, infra, id string) {
	cfg = publishedCatalogWith(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Verify = runbooks.Verify{Within: runbooks.Duration(within), AlertResolved: true, PromQL: `demo_latency_seconds{service="api-gateway"} < 0.5`}
	})
	infra = infraRepo(t, cfg)
	addr := freeAddr(t)
	g := monitored(t, cfg, addr)
	stop := startServe(t, cfg, addr)
	t.Cleanup(stop)

	id = decision.ID("scale-out-api", "service=api-gateway")
	waitFor(t, "the alert to become a proposal", func() bool {
		_, err := gittest.Output(infra, "rev-parse", "--verify", "-q", decision.Branch(id))
		return err == nil
	})
	if code, _, errs := cli(t, "approve", "--config", cfg, "--id", id, "--reviewer", "Alice", "--email", "alice@example.com"); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.Contains(out, "merged: ") {
		t.Fatalf("reconcile: %d %s %s", code, out, errs)
	}
	if recovers {
		g.set(0.2) // the remediation worked: latency drops, the alert resolves
	}
	return cfg, infra, id
}

func TestVerifiedWithRealPrometheusAndAlertmanager(t *testing.T) {
	cfg, infra, id := loop(t, 2*time.Minute, true)
	var out string
	waitFor(t, "the outcome", func() bool {
		_, out, _ = cli(t, "reconcile", "--config", cfg)
		return strings.Contains(out, "verified: "+id)
	})
	if !strings.Contains(out, "the triggering alert is no longer active") || !strings.Contains(out, "the verification query holds") {
		t.Fatalf("reconcile: %s", out)
	}
	merge := gittest.Run(t, infra, "rev-parse", "main")
	if note := gittest.Run(t, infra, "notes", "--ref=remediation", "show", merge); !strings.HasPrefix(note, "outcome: verified\n") {
		t.Fatalf("outcome note: %q", note)
	}
	if code, out, _ := cli(t, "audit", "verify", "--repository", infra); code != 0 {
		t.Fatalf("audit verify: %d %s", code, out)
	}
}

func TestFailedVerificationProposesTheRollback(t *testing.T) {
	cfg, infra, id := loop(t, 3*time.Second, false)
	var out string
	waitFor(t, "the outcome", func() bool {
		_, out, _ = cli(t, "reconcile", "--config", cfg)
		return strings.Contains(out, "failed: "+id)
	})
	if !strings.Contains(out, "matching alert(s) still active") || !strings.Contains(out, "rollback proposed on remediation/"+id+"-rollback") {
		t.Fatalf("reconcile: %s", out)
	}
	merge := gittest.Run(t, infra, "rev-parse", "main")
	if note := gittest.Run(t, infra, "notes", "--ref=remediation", "show", merge); !strings.HasPrefix(note, "outcome: failed\n") {
		t.Fatalf("outcome note: %q", note)
	}
	rollback := "remediation/" + id + "-rollback"
	if got := gittest.Run(t, infra, "show", rollback+":envs/api-gateway.auto.tfvars"); !strings.Contains(got, "replicas      = 4 # raised in March") {
		t.Fatalf("the rollback does not restore the file:\n%s", got)
	}
	if art := gittest.Run(t, infra, "show", rollback+":.remediations/"+id+"-rollback.yaml"); !strings.Contains(art, "commit: "+merge) {
		t.Fatalf("the rollback's artifact does not name the merge:\n%s", art)
	}
	// The rollback is a proposal like any other: it waits for its approval.
	if _, out, _ := cli(t, "reconcile", "--config", cfg); !strings.Contains(out, "waiting: "+rollback+": 0 of 1 approval(s)") {
		t.Fatalf("rollback not gated: %s", out)
	}
}

// The whole loop on the GitHub-compatible server with real Prometheus and
// Alertmanager: a real alert fires, Alertmanager posts to serve, a pull request opens,
// a review arrives, serve's reconcile merges it through the API, the metric recovers,
// the alert resolves, and the outcome note on the merge says verified.
func TestWholeLoopOnGitHubWithRealMonitoring(t *testing.T) {
	srv, bare, g := githubLoop(t, runbooks.Verify{Within: runbooks.Duration(2 * time.Minute), AlertResolved: true, PromQL: `demo_latency_seconds{service="api-gateway"} < 0.5`})
	waitFor(t, "the alert to become a pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 1 })
	pr := srv.PullRequests("acme", "infra")[0]
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	waitFor(t, "the merge", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })
	g.set(0.2)
	merge := gittest.Run(t, bare, "rev-parse", "main")
	waitFor(t, "the outcome note", func() bool {
		note, err := gittest.Output(bare, "notes", "--ref=remediation", "show", merge)
		return err == nil && strings.HasPrefix(note, "outcome: verified\n")
	})
	if code, out, _ := cli(t, "audit", "verify", "--repository", bare); code != 0 {
		t.Fatalf("audit verify: %d %s", code, out)
	}
}

// The failure path on GitHub: the alert stays, the outcome note says failed, and the
// rollback opens as its own pull request, labelled rollback, waiting for its review.
func TestFailedOnGitHubOpensTheRollbackPullRequest(t *testing.T) {
	srv, bare, _ := githubLoop(t, runbooks.Verify{Within: runbooks.Duration(3 * time.Second), AlertResolved: true})
	waitFor(t, "the pull request", func() bool { return len(srv.PullRequests("acme", "infra")) >= 1 })
	pr := srv.PullRequests("acme", "infra")[0]
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	waitFor(t, "the merge", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })
	merge := gittest.Run(t, bare, "rev-parse", "main")
	waitFor(t, "the rollback pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 2 })
	rollback := srv.PullRequests("acme", "infra")[1]
	if !strings.HasSuffix(rollback.Head, "-rollback") || !strings.Contains(strings.Join(rollback.Labels, ","), "rollback") || rollback.Merged {
		t.Fatalf("rollback %+v", rollback)
	}
	if note := gittest.Run(t, bare, "notes", "--ref=remediation", "show", merge); !strings.HasPrefix(note, "outcome: failed\n") {
		t.Fatalf("outcome note: %q", note)
	}
	if got := gittest.Run(t, bare, "show", rollback.Head+":envs/api-gateway.auto.tfvars"); !strings.Contains(got, "replicas      = 4 # raised in March") {
		t.Fatalf("the rollback does not restore the file:\n%s", got)
	}
	// The failure also counts: the rollback itself waits for a review like any proposal.
	time.Sleep(700 * time.Millisecond)
	if srv.PullRequests("acme", "infra")[1].Merged {
		t.Fatal("the rollback merged without a review")
	}
}

// githubLoop starts real monitoring and serve (reconciling every 300ms) against the
// fake GitHub, with the runbook verified as given; the metric starts high.
func githubLoop(t *testing.T, v runbooks.Verify) (*fakegithub.Server, string, *gauge) {
	t.Helper()
	cfg, srv, bare := githubSetup(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = []string{"alice"}
		rb.Spec.Verify = v
	})
	addr := freeAddr(t)
	g := monitored(t, cfg, addr)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "300ms"))
	return srv, bare, g
}

// monitored starts real monitoring whose Alertmanager posts to serve at addr, adds
// both to the config, and returns the metric (it starts high: the alert fires).
func monitored(t *testing.T, cfg, addr string) *gauge {
	t.Helper()
	g := &gauge{v: 0.9}
	promURL, amURL := monitoring(t, g, addr)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "alertmanager:\n  url: %s\nprometheus:\n  url: %s\n", amURL, promURL)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return g
}
