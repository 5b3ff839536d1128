package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// serveProcess runs `remediator serve` as a process of its own (the test binary as
// main), so a test can kill it; it is stopped when the test ends.
func serveProcess(t *testing.T, cfg, addr string) *exec.Cmd {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "serve.log")
	logs, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "serve", "--config", cfg, "--listen", addr, "--reconcile-interval", "0")
	cmd.Env = append(os.Environ(), "REMEDIATOR_TEST_AS_MAIN=1")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logs.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logFile)
			t.Logf("serve %s logs (last 4 kB):\n%s", addr, tail(data, 4096))
		}
	})
	waitHTTP(t, "http://"+addr+"/readyz")
	return cmd
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// alertsTo posts alerts to an Alertmanager's API as Prometheus does.
func alertsTo(t *testing.T, amURL string, from, to int) {
	t.Helper()
	var alerts []string
	ends := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for i := from; i < to; i++ {
		alerts = append(alerts, fmt.Sprintf(`{"labels":{"alertname":"HighLatency","service":"api-s%d","env":"prod"},"annotations":{"value":"0.9"},"endsAt":%q}`, i, ends))
	}
	resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewBufferString("["+strings.Join(alerts, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts to %s: %d", amURL, resp.StatusCode)
	}
}

// Two serve replicas with the same configuration, behind a real Alertmanager HA pair
// that notifies both: a burst over 50 targets gives exactly 50 proposals, coordinated
// only through Git's compare-and-swap; then one replica is killed (SIGKILL) in the
// middle of a second burst and no anomaly is lost, because every replica receives
// every notification.
func TestReplicasBehindAnAlertmanagerPair(t *testing.T) {
	cfg := publishedCatalog(t)
	dir := filepath.Dir(cfg)
	infra := infraRepo(t, cfg)
	work := filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", infra, work)
	for i := 0; i < 100; i++ {
		gittest.WriteFile(t, filepath.Join(work, "envs", fmt.Sprintf("api-s%d.auto.tfvars", i)), "replicas = 2\n")
	}
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", "a hundred services")
	gittest.Run(t, work, "push", "-q", "origin", "main")
	if err := signing.GenerateKeyFile(filepath.Join(dir, "keys", "remediator")); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Each replica keeps its own state (queue, mirror); they share the key that signs
	// their commits, so each may merge what the other proposed.
	replicas := map[string]string{}
	for _, name := range []string{"a", "b"} {
		c := filepath.Join(dir, "replica-"+name+".yaml")
		writeFile(t, c, strings.Replace(string(base), "state_dir: ./state\n", "state_dir: ./state-"+name+"\n", 1)+
			"signing:\n  key_file: ./keys/remediator\nlimits: {max_open: 0, per_hour: 0, max_open_per_runbook: 0, per_hour_per_runbook: 0}\n")
		replicas[name] = c
	}
	addrA, addrB := freeAddr(t), freeAddr(t)
	replicaA := serveProcess(t, replicas["a"], addrA)
	serveProcess(t, replicas["b"], addrB)

	// The Alertmanager pair: clustered, each notifying both replicas.
	amDir := t.TempDir()
	writeFile(t, filepath.Join(amDir, "alertmanager.yml"), fmt.Sprintf(`route:
  receiver: remediator
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: remediator
    webhook_configs:
      - url: http://%s/v1/alertmanager
      - url: http://%s/v1/alertmanager
`, addrA, addrB))
	am1, am2 := freeAddr(t), freeAddr(t)
	c1, c2 := freeAddr(t), freeAddr(t)
	for _, am := range []struct{ web, cluster, peer, dir string }{{am1, c1, c2, "am1"}, {am2, c2, c1, "am2"}} {
		startDaemon(t, "prometheus-alertmanager", "--config.file="+filepath.Join(amDir, "alertmanager.yml"),
			"--storage.path="+filepath.Join(amDir, am.dir), "--web.listen-address="+am.web,
			"--cluster.listen-address="+am.cluster, "--cluster.advertise-address="+am.cluster, "--cluster.peer="+am.peer)
	}
	waitHTTP(t, "http://"+am1+"/-/ready")
	waitHTTP(t, "http://"+am2+"/-/ready")

	// Burst one: 50 targets, sent to both peers as Prometheus does.
	alertsTo(t, "http://"+am1, 0, 50)
	alertsTo(t, "http://"+am2, 0, 50)
	waitForWithin(t, "50 proposals", 3*time.Minute, func() bool { return len(proposalBranches(t, infra)) == 50 })
	for _, b := range proposalBranches(t, infra) {
		if n := gittest.Run(t, infra, "rev-list", "--count", "main.."+b); n != "1" {
			t.Fatalf("%s holds %s commits: two replicas wrote it", b, n)
		}
	}

	// Burst two: replica a is killed as it starts.
	alertsTo(t, "http://"+am1, 50, 100)
	alertsTo(t, "http://"+am2, 50, 100)
	waitFor(t, "the second burst to begin", func() bool { return len(proposalBranches(t, infra)) > 50 })
	if err := replicaA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitForWithin(t, "all 100 proposals, with replica a dead", 3*time.Minute, func() bool { return len(proposalBranches(t, infra)) == 100 })
	time.Sleep(2 * time.Second) // nothing more may appear
	if n := len(proposalBranches(t, infra)); n != 100 {
		t.Fatalf("%d proposals, want one per target (100)", n)
	}
}
