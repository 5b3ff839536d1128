package status

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
)

func TestChartDrawsThirtyDaysOfOneRunbook(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	secs := func(s float64) *audit.TimeTo { v := audit.Seconds(s); return &audit.TimeTo{Verify: &v} }
	outcomes := []Item{
		{Runbook: "a", State: "verified", At: now.Add(-time.Hour), TimeTo: secs(600)},
		{Runbook: "a", State: "verified", At: now.Add(-2 * time.Hour), TimeTo: secs(120)},
		{Runbook: "a", State: "failed", At: now.Add(-3 * time.Hour)},
		{Runbook: "a", State: "verified", At: now.AddDate(0, 0, -29), TimeTo: secs(300)},
		{Runbook: "a", State: "not-applied", At: now.AddDate(0, 0, -29)},
		{Runbook: "a", State: "verified", At: now.AddDate(0, 0, -30), TimeTo: secs(1)}, // before the chart
		{Runbook: "b", State: "failed", At: now},                                       // another runbook
	}
	c := chartOf(outcomes, "a", now)
	if c == nil || c.Verified != 3 || c.Failed != 1 || c.Other != 1 {
		t.Fatalf("chart %+v, want 3 verified, 1 failed, 1 other", c)
	}
	if c.Median == nil || *c.Median != 300 {
		t.Fatalf("median %v, want 5m0s (of 120, 300, 600 seconds)", c.Median)
	}
	// Today is the busiest day (3 outcomes): the full 40 units; one outcome is a third.
	third := 40.0 / 3
	want := []ChartBar{
		{X: 0, Y: 40 - third, W: 8, H: third, Fill: "#5cb85c", Label: "2026-11-08: 1 verified"},
		{X: 0, Y: 40 - 2*third, W: 8, H: third, Fill: "#999999", Label: "2026-11-08: 1 other"},
		{X: 290, Y: 40 - 2*third, W: 8, H: 2 * third, Fill: "#5cb85c", Label: "2026-12-07: 2 verified"},
		{X: 290, Y: 0, W: 8, H: third, Fill: "#d9534f", Label: "2026-12-07: 1 failed"},
	}
	if len(c.Bars) != len(want) {
		t.Fatalf("bars %+v", c.Bars)
	}
	for i, w := range want {
		g := c.Bars[i]
		if g.Label != w.Label || g.Fill != w.Fill || !near(g.X, w.X) || !near(g.Y, w.Y) || !near(g.W, w.W) || !near(g.H, w.H) {
			t.Errorf("bar %d: %+v, want %+v", i, g, w)
		}
	}
	if chartOf(outcomes, "c", now) != nil {
		t.Error("a chart for a runbook without outcomes")
	}
	if s := c.Median.String(); !strings.Contains(s, "5m0s") {
		t.Errorf("median shown as %q", s)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
