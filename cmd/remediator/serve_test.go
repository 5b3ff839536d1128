package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	given.mu.Lock()
	defer given.mu.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		// The kernel may hand a closed port out again before the first taker binds
		// it (Prometheus and Alertmanager once got the same one): never twice here.
		if !given.addrs[addr] {
			given.addrs[addr] = true
			return addr
		}
	}
}

// given are the addresses freeAddr has handed out in this test process.
var given = struct {
	mu    sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// startServe runs `remediator serve` in-process until the test ends.
func startServe(t testing.TB, cfg, addr string, extra ...string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"serve", "--config", cfg, "--listen", addr}, extra...), io.Discard, &syncWriter{w: &logs})
	}()
	// Generous: under `make test` every package runs at once, with the race detector.
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			stacks := make([]byte, 256<<10)
			stacks = stacks[:runtime.Stack(stacks, true)]
			t.Fatalf("serve did not become ready: %s\ngoroutines:\n%s", logs.String(), stacks)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	stop := func() { // idempotent: a test may stop serve before its cleanup does
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d: %s", code, logs.String())
			} else if t.Failed() {
				t.Logf("serve's log:\n%s", logs.String()) // what it did before the test gave up
			}
		})
	}
	return stop
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func post(t testing.TB, addr, path, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitForWithin(t, what, 60*time.Second, cond)
}

// waitForWithin is waitFor for work whose size, not a fault, makes it slow on a busy
// machine (a burst of fifty proposals): a functional wait, never a speed test.
func waitForWithin(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func proposalBranches(t testing.TB, infra string) []string {
	out := gittest.Run(t, infra, "for-each-ref", "--format=%(refname:short)", "refs/heads/remediation/")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestServe(t *testing.T) {
	cfg := publishedCatalog(t)
	infra := infraRepo(t, cfg)
	t.Setenv("TEST_INTAKE_TOKEN", "intake-s3cret")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "intake:\n  bearer_token_env: TEST_INTAKE_TOKEN\n  max_body_bytes: 16384")
	f.Close()
	stateQueue := filepath.Join(filepath.Dir(cfg), "state", "queue")
	addr := freeAddr(t)

	// An anomaly accepted by a process that died before handling it: still on disk.
	q, err := queue.Open(stateQueue, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	anomalies, err := intake.ParseAlertmanager([]byte(alert("api-gateway")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Put(anomalies); err != nil {
		t.Fatal(err)
	}
	_ = q.Close()
	drained := func() bool { return strings.Contains(scrape(t, addr), "\nremediator_queue_depth 0\n") }

	stop := startServe(t, cfg, addr)
	defer stop()

	// The restart handles it.
	waitFor(t, "the queued anomaly to become a proposal", func() bool { return len(proposalBranches(t, infra)) == 1 })

	// Refused requests leave no trace.
	for _, tc := range []struct {
		token, body string
		code        int
	}{
		{"", alert("api-second"), http.StatusUnauthorized},
		{"wrong", alert("api-second"), http.StatusUnauthorized},
		{"intake-s3cret", `{"version":"4",`, http.StatusBadRequest},
		{"intake-s3cret", strings.Replace(alert("api-second"), `"version":"4"`, `"version":"5"`, 1), http.StatusBadRequest},
		{"intake-s3cret", strings.Repeat(" ", 20000) + alert("api-second"), http.StatusRequestEntityTooLarge},
	} {
		if code, body := post(t, addr, "/v1/alertmanager", tc.token, tc.body); code != tc.code {
			t.Errorf("want %d, got %d: %s", tc.code, code, body)
		}
	}

	// Fifty identical anomalies at once: one proposal.
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := post(t, addr, "/v1/alertmanager", "intake-s3cret", alert("api-second")); code != http.StatusAccepted {
				t.Errorf("accepted anomaly got %d: %s", code, body)
			}
		}()
	}
	wg.Wait()
	waitFor(t, "the queue to drain", drained)
	branches := proposalBranches(t, infra)
	if len(branches) != 2 {
		t.Fatalf("proposal branches %v, want one per target (2)", branches)
	}

	// The generic endpoint, and the metrics of all this.
	// An anomaly no runbook acts on is answered at the intake, never queued.
	if code, body := post(t, addr, "/v1/anomalies", "intake-s3cret", `{"labels":{"alertname":"DiskFull","env":"prod"}}`); code != http.StatusAccepted ||
		!strings.Contains(body, `"queued":[]`) || !strings.Contains(body, `"no-match":1`) {
		t.Fatalf("generic anomaly: %d %s", code, body)
	}
	waitFor(t, "the queue to drain", drained)
	metrics := scrape(t, addr)
	for _, want := range []string{
		`remediator_decisions_total{action="opened",runbook="scale-out-api"} 2`,
		`remediator_decisions_total{action="updated",runbook="scale-out-api"} 49`,
		`remediator_intake_alerts_total{outcome="no-match"} 1`,
		`remediator_intake_alerts_total{outcome="queued"} 50`,
		`remediator_intake_requests_total{code="401",endpoint="alertmanager"} 2`,
		`remediator_intake_requests_total{code="413",endpoint="alertmanager"} 1`,
		`remediator_intake_requests_total{code="202",endpoint="alertmanager"} 50`,
		`remediator_queue_depth 0`,
		fmt.Sprintf(`remediator_build_info{goversion=%q,revision="none",version="dev"} 1`, runtime.Version()),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// A secret the configuration names but the environment lacks would leave the
// intake or the GitHub webhook open: serve refuses to start, naming the variable.
func TestServeFailsClosedOnAMissingSecret(t *testing.T) {
	for _, c := range []struct{ section, env string }{
		{"intake:\n  bearer_token_env: TEST_UNSET_INTAKE_TOKEN\n", "TEST_UNSET_INTAKE_TOKEN"},
		{"intake:\n  bearer_token_env: TEST_EMPTY_INTAKE_TOKEN\n", "TEST_EMPTY_INTAKE_TOKEN"},
	} {
		cfg := publishedCatalog(t)
		t.Setenv("TEST_EMPTY_INTAKE_TOKEN", " ")
		data, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, cfg, string(data)+c.section)
		code, _, errs := cli(t, "serve", "--config", cfg, "--listen", freeAddr(t))
		if code != 2 || !strings.Contains(errs, "intake.bearer_token_env names "+c.env+", which is unset or empty") {
			t.Fatalf("%s: exit %d %s", c.env, code, errs)
		}
	}
	cfg, _, _ := githubSetup(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, strings.Replace(string(data), "  token_env: TEST_GITHUB_TOKEN\n", "  token_env: TEST_GITHUB_TOKEN\n  webhook_secret_env: TEST_UNSET_WEBHOOK_SECRET\n", 1))
	if code, _, errs := cli(t, "serve", "--config", cfg, "--listen", freeAddr(t)); code != 2 || !strings.Contains(errs, "forge.webhook_secret_env names TEST_UNSET_WEBHOOK_SECRET") {
		t.Fatalf("webhook secret: exit %d %s", code, errs)
	}
}

// An alert storm over 30 targets of one runbook, under a policy that sets no limits:
// the remediator's own default bound (10 open proposals per runbook) holds, and what
// it suppressed is counted; a configured bound replaces the default.
func TestStormIsBoundedByDefault(t *testing.T) {
	for _, c := range []struct {
		extra string
		want  int
	}{{"", 10}, {"limits:\n  max_open_per_runbook: 3\n", 3}} {
		cfg := publishedCatalog(t)
		infra := infraRepo(t, cfg)
		work := filepath.Join(t.TempDir(), "w")
		gittest.Run(t, "", "clone", "-q", infra, work)
		var alerts []string
		for i := 0; i < 30; i++ {
			gittest.WriteFile(t, filepath.Join(work, "envs", fmt.Sprintf("api-s%d.auto.tfvars", i)), "replicas = 2\n")
			alerts = append(alerts, fmt.Sprintf(`{"status":"firing","labels":{"alertname":"HighLatency","service":"api-s%d","env":"prod"},"annotations":{"value":"0.9"},"startsAt":"2026-11-24T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"s%d"}`, i, i))
		}
		gittest.Run(t, work, "add", "-A")
		gittest.Run(t, work, "commit", "-qm", "thirty services")
		gittest.Run(t, work, "push", "-q", "origin", "main")
		if c.extra != "" {
			data, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, cfg, string(data)+c.extra)
		}
		addr := freeAddr(t)
		stop := startServe(t, cfg, addr, "--reconcile-interval", "0")
		body := `{"version":"4","groupKey":"g","truncatedAlerts":0,"status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","alerts":[` + strings.Join(alerts, ",") + `]}`
		if code, resp := post(t, addr, "/v1/alertmanager", "", body); code != http.StatusAccepted {
			t.Fatalf("%d %s", code, resp)
		}
		waitFor(t, "the storm to be handled", func() bool {
			return strings.Contains(scrape(t, addr), "\nremediator_queue_depth 0\n")
		})
		if got := len(proposalBranches(t, infra)); got != c.want {
			t.Fatalf("%d proposals, want the bound %d", got, c.want)
		}
		if m := scrape(t, addr); !strings.Contains(m, fmt.Sprintf(`remediator_decisions_total{action="suppressed",runbook="scale-out-api"} %d`, 30-c.want)) {
			t.Fatalf("suppressions not counted:\n%s", m)
		}
		stop()
	}
}
