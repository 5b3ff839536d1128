// Package monitoring holds the remediator's own alerting rules and dashboard; its
// tests keep them true to the metrics serve exports.
package monitoring

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/daemon"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/notify"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/server"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/worker"
)

func promtool(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Fatal("promtool is not installed (Debian's prometheus package; .ci/run installs it)")
	}
	out, err := exec.Command("promtool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// The rules load, and each alert fires on its test series (and only there).
func TestAlertRules(t *testing.T) {
	promtool(t, "check", "rules", "alerts.yml")
	out := promtool(t, "test", "rules", "alerts_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatal(out)
	}
	// Every alert of the file has a test case.
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAML(t, "alerts.yml", &rules)
	readYAML(t, "alerts_test.yml", &tests)
	tested := map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			tested[a.Alertname] = true
		}
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if !tested[r.Alert] {
				t.Errorf("alert %s has no promtool test case", r.Alert)
			}
		}
	}
}

// Every query of the dashboard is valid PromQL, and every remediator metric the
// dashboard and the rules name is one serve exports.
func TestQueriesUseExportedMetrics(t *testing.T) {
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	data, err := os.ReadFile("dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	var check strings.Builder
	check.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, p := range dash.Panels {
		for j, target := range p.Targets {
			exprs = append(exprs, target.Expr)
			// Grafana's own variables become what they stand for, so promtool parses it.
			expr := strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h").Replace(target.Expr)
			fmt.Fprintf(&check, "      - record: dashboard:panel%d:%d\n        expr: %q\n", i, j, expr)
		}
	}
	if len(exprs) < 8 {
		t.Fatalf("only %d queries", len(exprs))
	}
	rules := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(rules, []byte(check.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	promtool(t, "check", "rules", rules)

	alerts, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	exported := exportedMetrics(t)
	named := regexp.MustCompile(`remediator_[a-z_]+`)
	used := map[string]bool{}
	for _, text := range append(exprs, string(alerts)) {
		for _, m := range named.FindAllString(text, -1) {
			used[m] = true
		}
	}
	var unknown []string
	for m := range used {
		if !exported[m] {
			unknown = append(unknown, m)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Fatalf("queried but not exported: %v", unknown)
	}
}

// exportedMetrics are the series names serve's registry exposes.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	// Every stage serve wires registers on one registry, as serve does.
	reg := server.NewRegistry("test", "test")
	in := server.NewMetrics(reg)
	w := worker.NewMetrics(reg, func() int { return 0 })
	d := daemon.NewMetrics(reg)
	// Touch the vectors so that they are gathered.
	in.Requests.WithLabelValues("alertmanager", "202").Inc()
	in.Accepted.WithLabelValues("alertmanager").Inc()
	in.Routed.WithLabelValues("queued").Inc()
	w.Decisions.WithLabelValues("opened", "scale-out-api").Inc()
	d.Lifecycle.WithLabelValues("verified", "scale-out-api").Inc()
	d.Passes.WithLabelValues("ok").Inc()
	n := notify.NewMetrics(reg)
	n.Notifications.WithLabelValues("sre", "slack", "delivered").Inc()
	n.Queued.WithLabelValues("sre").Set(0)
	n.Latency.WithLabelValues("slack").Observe(1)
	for _, h := range n.TimeTo {
		h.WithLabelValues("scale-out-api").Observe(60)
	}
	// serve registers the forge's budget on the same registry.
	budget := github.NewBudget(reg, nil)
	budget.Observe("/user", 200, http.Header{"X-Ratelimit-Remaining": {"1"}, "X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Reset": {"1"}})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range families {
		out[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				out[f.GetName()+suffix] = true
			}
		}
	}
	return out
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}
