package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Table writes the ledger for a terminal.
func (l *Ledger) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRUNBOOK\tVERSION\tPOLICY\tRISK\tANOMALY\tAPPROVERS\tMERGED AT\tMERGED BY\tOUTCOME\tROLLBACK\tTIME TO PROPOSE / MERGE / VERIFY")
	for _, e := range l.Entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Runbook, e.RunbookVersion, e.Policy, e.Risk,
			dash(e.Anomaly), dash(strings.Join(e.Approvers, ", ")), e.MergedAt.UTC().Format(time.RFC3339), e.MergedBy, e.Outcome, dash(e.Rollback), e.TimeTo.ttr())
	}
	return tw.Flush()
}

// Markdown writes the ledger as a table for a pull request or a wiki.
func (l *Ledger) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Remediation ledger\n\n%d merged remediation(s).\n\n", len(l.Entries))
	b.WriteString("| id | runbook | version | policy | risk | anomaly | approvers | merged at | merged by | outcome | rollback | time to propose / merge / verify |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, e := range l.Entries {
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s | `%s` | %s | %s | %s | %s | %s | %s |\n", md(e.ID), md(e.Runbook), md(e.RunbookVersion),
			md(e.Policy), md(e.Risk), md(dash(e.Anomaly)), md(dash(strings.Join(e.Approvers, ", "))), e.MergedAt.UTC().Format(time.RFC3339),
			md(e.MergedBy), e.Outcome, md(dash(e.Rollback)), e.TimeTo.ttr())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON writes the ledger as one JSON array.
func (l *Ledger) JSON(w io.Writer) error {
	entries := l.Entries
	if entries == nil {
		entries = []Entry{}
	}
	return json.NewEncoder(w).Encode(entries)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func md(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "`", "'")
	s = strings.ReplaceAll(s, "<", "&lt;")
	return strings.ReplaceAll(s, "|", `\|`)
}
