package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
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
func monitoring(t *testing.T, g *gauge, serveAddr string, sendResolved bool) (promURL, amURL string) {
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
        send_resolved: %t
`, serveAddr, sendResolved))
	startDaemon(t, "prometheus-alertmanager", "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "am"), "--web.listen-address="+amAddr, "--cluster.listen-address=")
	startDaemon(t, "prometheus", "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prom"), "--web.listen-address="+promAddr)
	promURL, amURL = "http://"+promAddr, "http://"+amAddr
	waitHTTP(t, promURL+"/-/ready")
	waitHTTP(t, amURL+"/-/ready")
	return promURL, amURL
}

// verifySpec is a runbook's verification for the tests: the alert must resolve
// within `within` of the apply, then the alert and the query hold for `soak`.
func verifySpec(within, soak, applyTimeout time.Duration, promql string) runbooks.Verify {
	return runbooks.Verify{Within: runbooks.Duration(within), AlertResolved: true, PromQL: promql,
		Soak: runbooks.Duration(soak), ApplyTimeout: runbooks.Duration(applyTimeout)}
}

const latencyOK = `demo_latency_seconds{service="api-gateway"} < 0.5`

// loop runs the whole local loop with real monitoring: a real alert fires, Alertmanager
// posts it to serve, the proposal is approved and merged. The test then moves the
// metric, reports the apply and runs the passes.
func loop(t *testing.T, v runbooks.Verify, adjust func(p *runbooks.Policy)) (cfg, infra, id string, g *gauge) {
	cfg = publishedCatalogWith(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		rb.Spec.Verify = v
		if adjust != nil {
			adjust(p)
		}
	})
	infra = infraRepo(t, cfg)
	addr := freeAddr(t)
	g = monitored(t, cfg, addr, true)
	// serve only takes the alerts in; the test runs the passes.
	stop := startServe(t, cfg, addr, "--reconcile-interval", "0")
	t.Cleanup(stop)

	id = decision.ID("scale-out-api", "service=api-gateway")
	waitFor(t, "the alert to become a proposal", func() bool {
		_, err := gittest.Output(infra, "rev-parse", "--verify", "-q", decision.Branch(id))
		return err == nil
	})
	if code, _, errs := cli(t, "approve", "--config", cfg, "--id", id, "--key", keyOf(cfg, "alice")); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.Contains(out, "merged: ") {
		t.Fatalf("reconcile: %d %s %s", code, out, errs)
	}
	return cfg, infra, id, g
}

// applied is CI reporting that it applied the merge commit on main.
func applied(t *testing.T, cfg, repo string) string {
	t.Helper()
	merge := gittest.Run(t, repo, "rev-parse", "main")
	if code, out, errs := cli(t, "applied", "--config", cfg, "--sha", merge, "--key", keyOf(cfg, "ci")); code != 0 || !strings.Contains(out, "success terraform-apply on "+merge[:12]) {
		t.Fatalf("applied: %d %s %s", code, out, errs)
	}
	return merge
}

// noteTimes reads the RFC 3339 times of an outcome note.
func noteTimes(t *testing.T, note string, keys ...string) []time.Time {
	t.Helper()
	var out []time.Time
	for _, k := range keys {
		_, rest, ok := strings.Cut(note, "\n"+k+": ")
		if !ok {
			t.Fatalf("no %s in the note:\n%s", k, note)
		}
		v, _, _ := strings.Cut(rest, "\n")
		at, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, at)
	}
	return out
}

// The alert resolves before anyone applied the change: that proves nothing, so
// nothing is verified until CI reports the apply, and then only after the alert and
// the query have held for the whole soak period.
func TestVerifiedOnlyAfterAppliedAndSoaked(t *testing.T) {
	cfg, infra, id, g := loop(t, verifySpec(2*time.Minute, 4*time.Second, time.Minute, latencyOK), nil)
	amURL := configValue(t, cfg, "alertmanager")
	g.set(0.2) // the latency drops on its own, before any apply
	waitFor(t, "Alertmanager to drop the alert", func() bool { return amAlerts(t, amURL) == "[]" })
	for range 3 {
		if _, out, _ := cli(t, "reconcile", "--config", cfg); strings.Contains(out, id) {
			t.Fatalf("an outcome before the apply: %s", out)
		}
	}
	if _, out, _ := cli(t, "reconcile", "--config", cfg, "--dry-run"); !strings.Contains(out, "verifying: "+id) || !strings.Contains(out, "waiting for check terraform-apply on the merge commit") {
		t.Fatalf("reconcile --dry-run before the apply: %s", out)
	}
	merge := applied(t, cfg, infra)
	var out string
	waitFor(t, "the outcome", func() bool {
		_, out, _ = cli(t, "reconcile", "--config", cfg)
		return strings.Contains(out, "verified: "+id)
	})
	if !strings.Contains(out, "the triggering alert is no longer active") || !strings.Contains(out, "held for the soak period of 4s") {
		t.Fatalf("reconcile: %s", out)
	}
	note := gittest.Run(t, infra, "notes", "--ref=remediation", "show", merge)
	if !strings.HasPrefix(note, "outcome: verified\n") || !strings.Contains(note, "applied_check: terraform-apply\n") {
		t.Fatalf("outcome note: %q", note)
	}
	times := noteTimes(t, note, "applied_at", "resolved_since", "checked_at")
	if times[1].Before(times[0]) || times[2].Sub(times[1]) < 4*time.Second {
		t.Fatalf("verified before the soak ended: applied %s, resolved since %s, checked %s", times[0], times[1], times[2])
	}
	if code, out, _ := cli(t, "audit", "verify", "--repository", infra, "--config", cfg); code != 0 {
		t.Fatalf("audit verify: %d %s", code, out)
	}
}

// The alert resolves after the apply, then fires again for a moment between two
// passes: Alertmanager shows nothing by the next pass, but Prometheus's ALERTS history
// does, so the remediation failed and its rollback is proposed.
func TestRelapseInsideTheSoakFails(t *testing.T) {
	cfg, infra, id, g := loop(t, verifySpec(time.Minute, time.Hour, time.Minute, latencyOK), nil)
	applied(t, cfg, infra)
	amURL, promURL := configValue(t, cfg, "alertmanager"), configValue(t, cfg, "prometheus")
	g.set(0.2)
	waitFor(t, "Alertmanager to drop the alert", func() bool { return amAlerts(t, amURL) == "[]" })
	waitFor(t, "the soak to begin", func() bool {
		_, out, _ := cli(t, "reconcile", "--config", cfg)
		note, err := gittest.Output(infra, "notes", "--ref="+records.ProgressRef, "show", "main")
		return err == nil && strings.Contains(note, "resolved_since: ") && !strings.Contains(out, id)
	})
	g.set(0.9) // the flap
	waitFor(t, "the alert to fire again in Prometheus", func() bool { return firing(t, promURL) })
	g.set(0.2)
	waitFor(t, "the flap to end", func() bool { return !firing(t, promURL) && amAlerts(t, amURL) == "[]" })
	var out string
	waitFor(t, "the outcome", func() bool {
		_, out, _ = cli(t, "reconcile", "--config", cfg)
		return strings.Contains(out, "failed: "+id)
	})
	if !strings.Contains(out, "relapse during the soak period") || !strings.Contains(out, "rollback proposed on remediation/"+id+"-rollback") {
		t.Fatalf("reconcile: %s", out)
	}
	if note := gittest.Run(t, infra, "notes", "--ref=remediation", "show", "main"); !strings.HasPrefix(note, "outcome: failed\n") {
		t.Fatalf("outcome note: %q", note)
	}
}

// firing says whether Prometheus has the HighLatency alert firing now.
func firing(t *testing.T, promURL string) bool {
	t.Helper()
	resp, err := http.Get(promURL + `/api/v1/query?query=` + url.QueryEscape(`ALERTS{alertname="HighLatency",alertstate="firing"}`))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(body), `"alertname":"HighLatency"`)
}

// A change nobody applies is not-applied when apply_timeout ends, even though the
// alert went: no rollback is proposed, and the circuit breaker does not count it.
func TestNeverAppliedIsNotAppliedWithoutRollback(t *testing.T) {
	cfg, infra, id, g := loop(t, verifySpec(time.Minute, 0, 3*time.Second, latencyOK), func(p *runbooks.Policy) {
		p.Spec.CircuitBreaker = runbooks.CircuitBreaker{Failures: 1, Window: runbooks.Duration(time.Hour), Cooldown: runbooks.Duration(time.Hour)}
	})
	g.set(0.2)
	var out string
	waitFor(t, "the outcome", func() bool {
		_, out, _ = cli(t, "reconcile", "--config", cfg)
		return strings.Contains(out, "not-applied: "+id)
	})
	if !strings.Contains(out, "no check terraform-apply reported success on the merge commit within apply_timeout 3s") || strings.Contains(out, "rollback") {
		t.Fatalf("reconcile: %s", out)
	}
	if note := gittest.Run(t, infra, "notes", "--ref=remediation", "show", "main"); !strings.HasPrefix(note, "outcome: not-applied\n") {
		t.Fatalf("outcome note: %q", note)
	}
	if _, err := gittest.Output(infra, "rev-parse", "--verify", "-q", decision.Branch(id+"-rollback")); err == nil {
		t.Fatal("a rollback was proposed for a change never applied")
	}
	// The breaker (one failure suspends) did not count it: another target proposes.
	if code, out, errs := proposeRun(t, cfg, alert("api-second"), "--dry-run"); code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("after not-applied: %d %s %s", code, out, errs)
	}
}

func TestFailedVerificationProposesTheRollback(t *testing.T) {
	cfg, infra, id, _ := loop(t, verifySpec(3*time.Second, 0, time.Minute, latencyOK), nil)
	merge := applied(t, cfg, infra)
	var out string
	waitFor(t, "the outcome", func() bool {
		_, out, _ = cli(t, "reconcile", "--config", cfg)
		return strings.Contains(out, "failed: "+id)
	})
	if !strings.Contains(out, "matching alert(s) still active") || !strings.Contains(out, "rollback proposed on remediation/"+id+"-rollback") {
		t.Fatalf("reconcile: %s", out)
	}
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

// An alert that resolves without a resolved notification (Alertmanager configured
// without send_resolved, or the notification lost): reconcile asks Alertmanager's API
// and closes the proposal; but a silenced alert still fires, and an Alertmanager too
// young to be believed proves nothing.
func TestResolvedBeforeMergeSeenInAlertmanager(t *testing.T) {
	cfg := publishedCatalog(t)
	infra := infraRepo(t, cfg)
	addr := freeAddr(t)
	g := monitored(t, cfg, addr, false)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "0"))
	id := decision.ID("scale-out-api", "service=api-gateway")
	branch := decision.Branch(id)
	waitFor(t, "the alert to become a proposal", func() bool {
		_, err := gittest.Output(infra, "rev-parse", "--verify", "-q", branch)
		return err == nil
	})
	amURL := configValue(t, cfg, "alertmanager")
	original, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	noGrace := strings.Replace(string(original), "  url: "+amURL+"\n", "  url: "+amURL+"\n  restart_grace: 0s\n", 1)
	reconcile := func(config, want string) {
		t.Helper()
		writeFile(t, cfg, config)
		if code, out, errs := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.Contains(out, want) {
			t.Fatalf("want %q: %d %s %s", want, code, out, errs)
		}
	}
	// Someone silences the alert while the fix is reviewed: it still fires.
	silence := fmt.Sprintf(`{"matchers":[{"name":"alertname","value":"HighLatency","isRegex":false}],"startsAt":%q,"endsAt":%q,"createdBy":"test","comment":"under review"}`,
		time.Now().UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	resp, err := http.Post(amURL+"/api/v2/silences", "application/json", strings.NewReader(silence))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("silence: %v %v", resp, err)
	}
	resp.Body.Close()
	waitFor(t, "Alertmanager to suppress the alert", func() bool { return strings.Contains(amAlerts(t, amURL), `"state":"suppressed"`) })
	reconcile(noGrace, "waiting: "+branch)

	g.set(0.2)
	waitFor(t, "Alertmanager to drop the alert", func() bool { return amAlerts(t, amURL) == "[]" })
	// Alertmanager started seconds ago: its silence proves nothing yet (default grace 5m).
	reconcile(string(original), "waiting: "+branch)
	reconcile(noGrace, "closed: "+branch+": the anomaly resolved before the merge (Alertmanager no longer lists the alert as active)")
	if _, err := gittest.Output(infra, "rev-parse", "--verify", "-q", branch); err == nil {
		t.Fatal("the proposal branch is still there")
	}
	assertNotMerged(t, infra)
}

// amAlerts is Alertmanager's list of alerts that have not resolved, silenced or not.
func amAlerts(t *testing.T, amURL string) string {
	t.Helper()
	resp, err := http.Get(amURL + "/api/v2/alerts?silenced=true&inhibited=true")
	if err != nil {
		return "error"
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}

// configValue reads the url under a top-level section of the config.
func configValue(t *testing.T, cfg, section string) string {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n"+section+":\n  url: ")
	if !ok {
		t.Fatalf("no %s.url in %s", section, data)
	}
	url, _, _ := strings.Cut(rest, "\n")
	return url
}

// The whole loop on the GitHub-compatible server with real Prometheus and
// Alertmanager, driven by events only (serve's periodic pass is an hour away): a real
// alert fires, Alertmanager posts to serve, a pull request opens, the review arrives as
// a signed webhook and serve merges through the API, the metric recovers, the alert
// resolves (Alertmanager's resolved notification asks for a pass), and the outcome
// note on the merge says verified; GitHub shows it as a status, a comment and a label.
func TestWholeLoopOnGitHubWithRealMonitoring(t *testing.T) {
	cfg, srv, bare, g, _ := githubLoop(t, "1h", verifySpec(2*time.Minute, 0, time.Minute, latencyOK), nil)
	waitFor(t, "the alert to become a pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 1 })
	pr := srv.PullRequests("acme", "infra")[0]
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	waitFor(t, "the merge", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })
	g.set(0.2)
	// CI applies the merge and says so: a commit status, whose webhook asks for a pass.
	merge := applied(t, cfg, bare)
	waitFor(t, "the outcome note", func() bool {
		note, err := gittest.Output(bare, "notes", "--ref=remediation", "show", merge)
		return err == nil && strings.HasPrefix(note, "outcome: verified\n")
	})
	if code, out, _ := cli(t, "audit", "verify", "--repository", bare, "--config", cfg); code != 0 {
		t.Fatalf("audit verify: %d %s", code, out)
	}
	pr = srv.PullRequests("acme", "infra")[0]
	if !slices.Contains(pr.Labels, "verified") || len(pr.Comments) == 0 || !strings.Contains(pr.Comments[len(pr.Comments)-1], "**Verified.**") {
		t.Errorf("pull request after verification: labels %v comments %q", pr.Labels, pr.Comments)
	}
	if !slices.Contains(srv.Statuses("acme", "infra"), fakegithub.Status{SHA: merge, Context: "remediation/outcome", State: "success", Description: statusOf(srv, merge)}) {
		t.Errorf("no success status remediation/outcome on the merge: %+v", srv.Statuses("acme", "infra"))
	}
	events := map[string]int{}
	for _, d := range srv.Deliveries() {
		if d.Status != http.StatusAccepted {
			t.Errorf("webhook %s answered %d (%v)", d.Event, d.Status, d.Err)
		}
		events[d.Event]++
	}
	if events["pull_request_review"] != 1 || events["pull_request"] == 0 {
		t.Errorf("webhooks delivered: %v", events)
	}
}

// statusOf is the description of the outcome status on sha, whatever it says.
func statusOf(srv *fakegithub.Server, sha string) string {
	for _, s := range srv.Statuses("acme", "infra") {
		if s.SHA == sha && s.Context == "remediation/outcome" {
			return s.Description
		}
	}
	return ""
}

// The failure path on GitHub: the alert stays, the outcome note says failed, the
// rollback opens as its own pull request, labelled rollback, waiting for its review,
// and the failure trips the policy's circuit breaker: the runbook is suspended.
func TestFailedOnGitHubOpensTheRollbackPullRequest(t *testing.T) {
	cfg, srv, bare, _, _ := githubLoop(t, "300ms", verifySpec(3*time.Second, 0, time.Minute, ""), func(p *runbooks.Policy) {
		p.Spec.CircuitBreaker = runbooks.CircuitBreaker{Failures: 1, Window: runbooks.Duration(time.Hour), Cooldown: runbooks.Duration(time.Hour)}
	})
	waitFor(t, "the pull request", func() bool { return len(srv.PullRequests("acme", "infra")) >= 1 })
	pr := srv.PullRequests("acme", "infra")[0]
	// Before any failure, another target of the runbook would be proposed.
	if code, out, errs := proposeRun(t, cfg, alert("api-second"), "--dry-run"); code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("before the failure: %d %s %s", code, out, errs)
	}
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	waitFor(t, "the merge", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })
	merge := applied(t, cfg, bare)
	// Labels follow the pull request's creation: wait for both.
	waitFor(t, "the rollback pull request", func() bool {
		prs := srv.PullRequests("acme", "infra")
		return len(prs) == 2 && slices.Contains(prs[1].Labels, "rollback")
	})
	rollback := srv.PullRequests("acme", "infra")[1]
	if !strings.HasSuffix(rollback.Head, "-rollback") || !strings.Contains(strings.Join(rollback.Labels, ","), "rollback") || rollback.Merged {
		t.Fatalf("rollback %+v", rollback)
	}
	// The rollback is proposed first, then the failure recorded.
	waitFor(t, "the outcome note", func() bool {
		note, err := gittest.Output(bare, "notes", "--ref=remediation", "show", merge)
		return err == nil && strings.HasPrefix(note, "outcome: failed\n")
	})
	if got := gittest.Run(t, bare, "show", rollback.Head+":envs/api-gateway.auto.tfvars"); !strings.Contains(got, "replicas      = 4 # raised in March") {
		t.Fatalf("the rollback does not restore the file:\n%s", got)
	}
	if failed := srv.PullRequests("acme", "infra")[0]; !slices.Contains(failed.Labels, "verification-failed") {
		t.Errorf("the failed remediation's pull request is not labelled: %v", failed.Labels)
	}
	// The breaker counted the failure: the runbook is suspended, nothing is proposed.
	code, out, errs := proposeRun(t, cfg, alert("api-second"))
	if code != 0 || !strings.HasPrefix(out, "suspended: ") || !strings.Contains(out, "1 failed remediation(s) of runbook scale-out-api within 1h") {
		t.Fatalf("after the failure: %d %s %s", code, out, errs)
	}
	if n := len(srv.PullRequests("acme", "infra")); n != 2 {
		t.Fatalf("%d pull requests: a suspended runbook proposed", n)
	}
	// The rollback waits for a review like any proposal.
	time.Sleep(700 * time.Millisecond)
	if srv.PullRequests("acme", "infra")[1].Merged {
		t.Fatal("the rollback merged without a review")
	}
}

// GitHub fails while the rollback of a failed remediation is proposed: the pass fails
// and records no outcome, so the next pass does it all again: the failure is recorded
// only together with its rollback pull request, never without it.
func TestRollbackIsProposedBeforeTheFailureIsRecorded(t *testing.T) {
	// The window outlasts the pass serve still runs for the merge's own webhook.
	cfg, srv, bare, _, _ := githubLoop(t, "1h", verifySpec(6*time.Second, 0, time.Minute, ""), nil)
	waitFor(t, "the pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 1 })
	pr := srv.PullRequests("acme", "infra")[0]
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	waitFor(t, "the merge", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })
	srv.Unhook() // from here only the test's passes run
	merge := applied(t, cfg, bare)
	if code, out, errs := cli(t, "reconcile", "--config", cfg); code != 0 || strings.Contains(out, "failed: ") {
		t.Fatalf("the pass that sees the apply: %d %s %s", code, out, errs)
	}
	time.Sleep(6500 * time.Millisecond) // the window after the apply ends; the alert still fires
	srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: "/repos/{owner}/{repo}/pulls", Times: 5, Status: http.StatusBadGateway, Body: []byte(`{"message":"Server Error"}`)})
	if code, out, errs := cli(t, "reconcile", "--config", cfg); code == 0 || !strings.Contains(errs, "open the rollback of") {
		t.Fatalf("reconcile while GitHub fails: %d %s %s", code, out, errs)
	}
	if note, err := gittest.Output(bare, "notes", "--ref=remediation", "show", merge); err == nil {
		t.Fatalf("the failure was recorded without its rollback: %q", note)
	}
	code, out, errs := cli(t, "reconcile", "--config", cfg)
	if code != 0 || !strings.Contains(out, "failed: ") || !strings.Contains(out, "rollback proposed on remediation/") {
		t.Fatalf("reconcile after GitHub recovered: %d %s %s", code, out, errs)
	}
	if prs := srv.PullRequests("acme", "infra"); len(prs) != 2 || !strings.HasSuffix(prs[1].Head, "-rollback") {
		t.Fatalf("pull requests: %+v", prs)
	}
	if note := gittest.Run(t, bare, "notes", "--ref=remediation", "show", merge); !strings.HasPrefix(note, "outcome: failed\n") {
		t.Fatalf("outcome note: %q", note)
	}
}

// githubLoop starts real monitoring and serve (a reconcile pass every interval, and on
// each signed webhook the fake GitHub delivers) against the fake GitHub, with the
// runbook verified as given; the metric starts high.
func githubLoop(t *testing.T, interval string, v runbooks.Verify, adjust func(p *runbooks.Policy)) (string, *fakegithub.Server, string, *gauge, string) {
	t.Helper()
	cfg, srv, bare := githubSetup(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = []string{"alice"}
		rb.Spec.Verify = v
		if adjust != nil {
			adjust(p)
		}
	})
	const secret = "whsec-e2e-0123456789"
	t.Setenv("TEST_WEBHOOK_SECRET", secret)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, strings.Replace(string(data), "  token_env: TEST_GITHUB_TOKEN\n", "  token_env: TEST_GITHUB_TOKEN\n  webhook_secret_env: TEST_WEBHOOK_SECRET\n"+
		// `remediator applied` reports with the forge's token here: its login is CI's.
		"  check_reporters: [remediator-bot]\n", 1))
	addr := freeAddr(t)
	g := monitored(t, cfg, addr, true)
	srv.Hook("http://"+addr+"/v1/github", secret)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", interval))
	return cfg, srv, bare, g, addr
}

// monitored starts real monitoring whose Alertmanager posts to serve at addr, adds
// both to the config, and returns the metric (it starts high: the alert fires).
func monitored(t *testing.T, cfg, addr string, sendResolved bool) *gauge {
	t.Helper()
	g := &gauge{v: 0.9}
	promURL, amURL := monitoring(t, g, addr, sendResolved)
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
