package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// publishReplayCatalog publishes scale-out-api (HighLatency per service, low risk, 1h
// cooldown) with production (one approval, at most 2 proposals an hour) and staging
// (auto-merge of low risk, merges frozen on Tuesday afternoons, UTC).
func publishReplayCatalog(t *testing.T) string {
	t.Helper()
	cfg := publishedCatalogWith(t, func(rb *runbooks.Runbook, prod *runbooks.Policy) {
		rb.Spec.Risk = runbooks.RiskLow
		rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`}, GroupBy: []string{"service"}}
		rb.Spec.Cooldown = runbooks.Duration(time.Hour)
		prod.Spec.Priority = 10
		prod.Spec.Approvals.Low = 1
		prod.Spec.Limits.PerHour = 2
	})
	staging := runbooks.NewPolicy("staging")
	staging.Spec.Selector.Matchers = []string{`env="staging"`}
	staging.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "low"}
	staging.Spec.FreezeWindows = []runbooks.Window{{TimeZone: "UTC", Days: []string{"tue"}, Start: "12:00", End: "18:00"}}
	store, err := catalogstore.Open(context.Background(), catalogstore.Options{Repository: filepath.Join(filepath.Dir(cfg), "catalog.git")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(context.Background(), staging); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// alertHistory writes ALERTS samples, one a minute, for each firing period, into
// TSDB blocks with Prometheus's own promtool, and starts a Prometheus on them.
func alertHistory(t *testing.T, periods []firingPeriod) string {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Fatal("promtool is not installed (Debian's prometheus package; .ci/run installs it)")
	}
	dir := t.TempDir()
	var om strings.Builder
	om.WriteString("# TYPE ALERTS gauge\n")
	var lines []string
	for _, p := range periods {
		for at := p.from; at.Before(p.to); at = at.Add(time.Minute) {
			lines = append(lines, fmt.Sprintf("ALERTS{alertname=\"HighLatency\",alertstate=\"firing\",env=%q,service=%q} 1 %d\n", p.env, p.service, at.Unix()))
		}
	}
	// OpenMetrics wants one series' samples together, in time order.
	sortLines(lines)
	for _, l := range lines {
		om.WriteString(l)
	}
	om.WriteString("# EOF\n")
	input := filepath.Join(dir, "alerts.om")
	writeFile(t, input, om.String())
	data := filepath.Join(dir, "data")
	if out, err := exec.Command("promtool", "tsdb", "create-blocks-from", "openmetrics", input, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), "global:\n  scrape_interval: 1m\n")
	startDaemon(t, "prometheus", "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=100y", "--web.listen-address="+addr)
	waitHTTP(t, "http://"+addr+"/-/ready")
	return "http://" + addr
}

type firingPeriod struct {
	env, service string
	from, to     time.Time
}

// sortLines orders sample lines by series, then time (timestamps of a test's
// period have equal width, so they sort as text).
func sortLines(lines []string) {
	key := func(l string) string {
		i := strings.LastIndex(l, "} ")
		return l[:i] + " " + strings.Fields(l[i+2:])[1]
	}
	sort.SliceStable(lines, func(i, j int) bool { return key(lines[i]) < key(lines[j]) })
}

// day is a time on Monday 2 November 2026 (UTC), plus days.
func day(days, hour, minute int) time.Time {
	return time.Date(2026, 11, 2+days, hour, minute, 0, 0, time.UTC)
}

// Replay against a real Prometheus holding the ALERTS history of two days: the
// proposals, the per_hour and cooldown suppressions and the freeze window match the
// hand-checked expectation, and --compare shows what raising per_hour would change.
func TestReplayAgainstPrometheusHistory(t *testing.T) {
	cfg := publishReplayCatalog(t)
	infraRepo(t, cfg)
	prom := alertHistory(t, []firingPeriod{
		{"prod", "api-a", day(0, 10, 0), day(0, 10, 20)},
		{"prod", "api-b", day(0, 10, 10), day(0, 10, 40)},
		{"prod", "api-c", day(0, 10, 15), day(0, 10, 40)},
		{"prod", "api-a", day(0, 10, 30), day(0, 10, 50)},
		{"prod", "api-c", day(0, 11, 5), day(0, 11, 30)},
		{"staging", "api-s", day(0, 12, 0), day(0, 12, 20)},
		{"staging", "api-s", day(0, 12, 30), day(0, 12, 40)},
		{"staging", "api-q", day(1, 13, 0), day(1, 20, 0)},
	})
	args := []string{"replay", "--config", cfg, "--prometheus", prom, "--from", day(0, 0, 0).Format(time.RFC3339), "--to", day(2, 0, 0).Format(time.RFC3339)}
	code, out, errs := cli(t, args...)
	if code != 0 {
		t.Fatalf("replay: %d %s %s", code, out, errs)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	want := []struct{ anomaly, outcome, why string }{
		{`service="api-a"`, "proposed", "would wait for 1 approval(s) under policy production"},
		{`service="api-b"`, "proposed", ""},
		{`service="api-c"`, "suppressed", "limit: 2 proposals opened in the last hour under policy production (per_hour 2)"},
		{`service="api-a"`, "suppressed", "(per_hour 2)"},
		{`service="api-c"`, "proposed", ""},
		{`service="api-s"`, "auto-merged", "would auto-merge at 2026-11-02T12:00:00Z"},
		{`service="api-s"`, "suppressed", "cooldown: this target was last remediated at 2026-11-02T12:00:00Z"},
		{`service="api-q"`, "auto-merged", "would auto-merge at 2026-11-03T18:00:00Z (held until then: inside a freeze window of policy staging)"},
	}
	if len(rows) != len(want)+3 || !strings.HasPrefix(rows[0], "replay of 8 anomalies against main, from 2026-11-02T10:00:00Z") {
		t.Fatalf("replay output:\n%s", out)
	}
	for i, w := range want {
		row := rows[i+2]
		if !strings.Contains(row, w.anomaly) || !strings.Contains(row, " "+w.outcome+" ") || !strings.Contains(row, w.why) {
			t.Errorf("row %d: %q, want %s %s (%s)", i, row, w.anomaly, w.outcome, w.why)
		}
	}
	if last := rows[len(rows)-1]; last != "totals: proposed 3, auto-merged 2, updated 0, suppressed 3, suspended 0, no-match 0" {
		t.Errorf("totals: %s", last)
	}

	// A catalog pull request that lets production open 5 an hour, as a checkout.
	checkout := filepath.Join(t.TempDir(), "catalog")
	gittest.Run(t, "", "clone", "-q", filepath.Join(filepath.Dir(cfg), "catalog.git"), checkout)
	policy := filepath.Join(checkout, "catalog", "policies", "production.yaml")
	data, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, policy, strings.Replace(string(data), "per_hour: 2", "per_hour: 5", 1))
	code, out, errs = cli(t, append(args, "--catalog", checkout, "--compare", "main", "--format", "markdown")...)
	if code != 0 {
		t.Fatalf("replay --compare: %d %s %s", code, out, errs)
	}
	for _, w := range []string{
		"would have opened 7 proposal(s) instead of 5; 2 would have auto-merged instead of 2; 2 anomaly(ies) would be treated differently.",
		"| suppressed | 3 | 1 |", "suppressed by scale-out-api | proposed by scale-out-api |",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("markdown lacks %q:\n%s", w, out)
		}
	}
}

// Bad input names the file and line, exits 2, and nothing is replayed.
func TestReplayBadInput(t *testing.T) {
	cfg := publishReplayCatalog(t)
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	writeFile(t, events, `{"labels":{"alertname":"HighLatency","service":"api-a","env":"prod"},"starts_at":"2026-11-02T10:00:00Z"}`+"\n"+
		`{"labels":{"alertname":"HighLatency"},"value":"high","starts_at":"2026-11-02T10:00:00Z"}`+"\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--events", events}, "events.jsonl line 2: "},
		{[]string{"--events", events, "--prometheus", "http://127.0.0.1:1"}, "give exactly one source"},
		{[]string{"--prometheus", "http://127.0.0.1:1"}, "--from is required"},
		{[]string{"--webhooks", filepath.Join(dir, "none-*.json")}, "no such file"},
	} {
		code, out, errs := cli(t, append([]string{"replay", "--config", cfg}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) || out != "" {
			t.Errorf("%v: exit %d, %q %q; want 2 and %q", tc.args, code, out, errs, tc.want)
		}
	}
	// A good file replays; its webhook twin gives the same answer.
	writeFile(t, events, `{"labels":{"alertname":"HighLatency","service":"api-a","env":"prod"},"starts_at":"2026-11-02T10:00:00Z","ends_at":"2026-11-02T10:20:00Z"}`+"\n")
	writeFile(t, filepath.Join(dir, "firing.json"), alertAt("api-a", day(0, 10, 0)))
	for _, source := range [][]string{{"--events", events}, {"--webhooks", filepath.Join(dir, "*.json")}} {
		code, out, errs := cli(t, append([]string{"replay", "--config", cfg, "--record=false", "--format", "json"}, source...)...)
		if code != 0 || !strings.Contains(out, `"action": "proposed"`) || !strings.Contains(out, `"runbook": "scale-out-api"`) {
			t.Errorf("%v: %d %s %s", source, code, out, errs)
		}
	}
}

// The CI example runs replay with flags replay has: it cannot drift from the command.
func TestCatalogReplayExampleUsesRealFlags(t *testing.T) {
	data, err := os.ReadFile("../../examples/ci/catalog-replay.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "remediator replay ")
	if !ok {
		t.Fatal("the example runs no remediator replay")
	}
	invocation, _, _ := strings.Cut(rest, `> "$RUNNER_TEMP/replay.md"`)
	cmd := newReplayCommand()
	var used []string
	for _, field := range strings.Fields(strings.ReplaceAll(invocation, "\\\n", " ")) {
		if name, ok := strings.CutPrefix(field, "--"); ok {
			if cmd.Flags().Lookup(name) == nil {
				t.Errorf("the example passes --%s, which replay does not have", name)
			}
			used = append(used, name)
		}
	}
	if strings.Join(used, " ") != "config prometheus from step catalog compare format" {
		t.Errorf("flags used: %v", used)
	}
	if err := cmd.Flags().Parse([]string{"--from", "30d", "--step", "1m", "--format", "markdown"}); err != nil {
		t.Fatal(err)
	}
	if _, err := replayFrom("30d", time.Now()); err != nil {
		t.Errorf("--from 30d: %v", err)
	}
}
