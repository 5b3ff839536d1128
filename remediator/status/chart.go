package status

import (
	"fmt"
	"slices"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// chartDays is how many days a runbook's chart shows, today the last column.
const chartDays = 30

// Chart is a runbook's last 30 days drawn small, for the main page: a column per
// day with that day's outcomes stacked (verified, failed, anything else), to scale
// against the busiest day, and the median time to remediate over the period. The
// page draws it as SVG on the server: no script, as the page's policy requires.
type Chart struct {
	// Bars are the rectangles in the chart's 300 by 40 units, one per outcome kind
	// and day that had any.
	Bars     []ChartBar `json:"bars"`
	Verified int        `json:"verified"`
	Failed   int        `json:"failed"`
	Other    int        `json:"other"`
	// Median is the median time from the anomaly's start to the verified outcome,
	// over the verified outcomes whose start is known; nil without any.
	Median *audit.Seconds `json:"median_verify_seconds,omitempty"`
}

// ChartBar is one day's count of one outcome kind.
type ChartBar struct {
	X, Y, W, H float64
	Fill       string
	Label      string
}

const (
	chartWidth, chartHeight = 300.0, 40.0
	columnWidth             = chartWidth / chartDays
)

// chartKinds order the stack from the bottom: verified, failed, the rest.
var chartKinds = []struct {
	name, fill string
	is         func(state string) bool
}{
	{"verified", "#5cb85c", func(s string) bool { return s == string(forge.OutcomeVerified) }},
	{"failed", "#d9534f", func(s string) bool { return s == string(forge.OutcomeFailed) || s == Tampered }},
	{"other", "#999999", func(s string) bool {
		return s != string(forge.OutcomeVerified) && s != string(forge.OutcomeFailed) && s != Tampered
	}},
}

// chartOf draws the runbook's outcomes of the 30 days up to now (outcomes older
// than that, or of other runbooks, are left out); nil when it has none.
func chartOf(outcomes []Item, runbook string, now time.Time) *Chart {
	today := now.UTC().Truncate(24 * time.Hour)
	var counts [chartDays][3]int
	var totals [3]int
	c := &Chart{}
	var verify []float64
	for _, o := range outcomes {
		if o.Runbook != runbook {
			continue
		}
		day := chartDays - 1 - int(today.Sub(o.At.UTC().Truncate(24*time.Hour))/(24*time.Hour))
		if day < 0 || day >= chartDays {
			continue
		}
		for k, kind := range chartKinds {
			if kind.is(o.State) {
				counts[day][k]++
				totals[k]++
			}
		}
		if o.State == string(forge.OutcomeVerified) && o.TimeTo != nil && o.TimeTo.Verify != nil {
			verify = append(verify, float64(*o.TimeTo.Verify))
		}
	}
	c.Verified, c.Failed, c.Other = totals[0], totals[1], totals[2]
	if c.Verified+c.Failed+c.Other == 0 {
		return nil
	}
	busiest := 0
	for _, day := range counts {
		busiest = max(busiest, day[0]+day[1]+day[2])
	}
	for d, day := range counts {
		y := chartHeight
		for k, n := range day {
			if n == 0 {
				continue
			}
			h := chartHeight * float64(n) / float64(busiest)
			y -= h
			date := today.AddDate(0, 0, d-(chartDays-1)).Format("2006-01-02")
			c.Bars = append(c.Bars, ChartBar{X: float64(d) * columnWidth, Y: y, W: columnWidth - 2, H: h, Fill: chartKinds[k].fill,
				Label: fmt.Sprintf("%s: %d %s", date, n, chartKinds[k].name)})
		}
	}
	if len(verify) > 0 {
		slices.Sort(verify)
		m := audit.Seconds(median(verify))
		c.Median = &m
	}
	return c
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
