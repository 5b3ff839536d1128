package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// WriteText renders the snapshot as the `status` command's tables.
func (s *Snapshot) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	section := func(title string, n int) {
		fmt.Fprintf(tw, "%s (%d)\n", title, n)
	}
	for _, p := range s.Problems {
		fmt.Fprintf(tw, "problem: %s\n", p)
	}
	section("open proposals", len(s.Proposals))
	for _, it := range s.Proposals {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", it.State, it.ID, dash(it.Runbook), why(it))
	}
	section("merged, being verified", len(s.Verifying))
	for _, it := range s.Verifying {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", it.State, it.ID, dash(it.Runbook), it.Reason)
	}
	section("recent outcomes", len(s.Outcomes))
	for _, it := range s.Outcomes {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", it.State, it.ID, it.At.UTC().Format("2006-01-02 15:04Z"), it.Reason)
	}
	section("runbooks", len(s.Runbooks))
	for _, r := range s.Runbooks {
		breaker := "closed"
		if len(r.Suspended) > 0 {
			breaker = strings.Join(r.Suspended, "; ")
		}
		enabled := ""
		if !r.Enabled {
			enabled = " (disabled)"
		}
		fmt.Fprintf(tw, "  %s%s\tversion %s\t%d verified in a row; %d verified, %d failed, %d not applied\tbreaker %s\n",
			r.Name, enabled, r.Version, r.Record.Streak, r.Record.Verified, r.Record.Failed, r.Record.NotApplied, breaker)
	}
	fmt.Fprintf(tw, "queue: %d queued, %d dead letter(s)\n", s.Queue.Queued, len(s.Queue.Dead))
	for _, d := range s.Queue.Dead {
		fmt.Fprintf(tw, "  dead\t%s\t%s\t%s\n", d.Item.ID, runbooks.FormatLabels(d.Item.Anomaly.Labels), d.Error)
	}
	return tw.Flush()
}

func why(it Item) string {
	s := it.Reason
	if it.Need != nil {
		s += " [needs " + it.Need.String() + "]"
	}
	if len(it.Approvers) > 0 {
		s += " (approved by " + strings.Join(it.Approvers, ", ") + ")"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
