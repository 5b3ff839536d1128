package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Report is one catalog's replay.
type Report struct {
	// Catalog names what was replayed: a ref, a directory.
	Catalog string                  `json:"catalog"`
	From    time.Time               `json:"from"`
	To      time.Time               `json:"to"`
	Results []Result                `json:"results"`
	Totals  map[decision.Action]int `json:"totals"`
}

// NewReport totals the results of a replay.
func NewReport(catalog string, results []Result) *Report {
	r := &Report{Catalog: catalog, Results: results, Totals: map[decision.Action]int{}}
	for i, res := range results {
		r.Totals[res.Action]++
		if i == 0 || res.At.Before(r.From) {
			r.From = res.At
		}
		if res.At.After(r.To) {
			r.To = res.At
		}
	}
	return r
}

// Proposals counts the proposals the catalog would have opened.
func (r *Report) Proposals() int { return r.Totals[decision.Proposed] + r.Totals[decision.AutoMerged] }

// Difference is one anomaly the two catalogs would have treated differently.
type Difference struct {
	At     time.Time         `json:"at"`
	Labels map[string]string `json:"labels"`
	Base   Result            `json:"base"`
	Head   Result            `json:"head"`
}

// Comparison is a catalog's replay next to another's over the same anomalies.
type Comparison struct {
	Base        *Report      `json:"base"`
	Head        *Report      `json:"head"`
	Differences []Difference `json:"differences"`
}

// Compare lines up two replays of the same anomalies.
func Compare(base, head *Report) (*Comparison, error) {
	if len(base.Results) != len(head.Results) {
		return nil, fmt.Errorf("replay: the two catalogs replayed %d and %d anomalies", len(base.Results), len(head.Results))
	}
	c := &Comparison{Base: base, Head: head}
	for i := range base.Results {
		b, h := base.Results[i], head.Results[i]
		if b.Action != h.Action || b.Runbook != h.Runbook || b.Approvals != h.Approvals {
			c.Differences = append(c.Differences, Difference{At: b.At, Labels: b.Labels, Base: b, Head: h})
		}
	}
	return c, nil
}

// Summary says the comparison in one sentence, as a pull request comment opens.
func (c *Comparison) Summary() string {
	return fmt.Sprintf("Over these %d anomalies, %s would have opened %d proposal(s) instead of %d; %d would have auto-merged instead of %d; %d anomaly(ies) would be treated differently.",
		len(c.Head.Results), c.Head.Catalog, c.Head.Proposals(), c.Base.Proposals(), c.Head.Totals[decision.AutoMerged], c.Base.Totals[decision.AutoMerged], len(c.Differences))
}

// Formats of a report.
const (
	FormatTable    = "table"
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
)

// maxListed bounds the anomalies a table or markdown report lists one by one.
const maxListed = 50

// Write renders a report.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatMarkdown:
		fmt.Fprintf(w, "### Replay of %d anomalies against %s\n\n%s\n\n", len(r.Results), r.Catalog, period(r))
		fmt.Fprintln(w, "| outcome | anomalies |\n|---|---:|")
		for _, a := range Actions {
			fmt.Fprintf(w, "| %s | %d |\n", a, r.Totals[a])
		}
		fmt.Fprintln(w)
		listMarkdown(w, r.Results)
		return nil
	default:
		fmt.Fprintf(w, "replay of %d anomalies against %s, %s\n", len(r.Results), r.Catalog, period(r))
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STARTED\tANOMALY\tRUNBOOK\tOUTCOME\tWHY")
		for _, res := range r.Results {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", res.At.UTC().Format(time.RFC3339), runbooks.FormatLabels(res.Labels), dash(res.Runbook), res.Action, res.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, totalsText(r))
		return nil
	}
}

// Write renders a comparison.
func (c *Comparison) Write(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	case FormatMarkdown:
		fmt.Fprintf(w, "### Replay: %s against %s\n\n%s\n\n%s\n\n", c.Head.Catalog, c.Base.Catalog, period(c.Head), c.Summary())
		fmt.Fprintf(w, "| outcome | %s | %s |\n|---|---:|---:|\n", c.Base.Catalog, c.Head.Catalog)
		for _, a := range Actions {
			fmt.Fprintf(w, "| %s | %d | %d |\n", a, c.Base.Totals[a], c.Head.Totals[a])
		}
		if len(c.Differences) > 0 {
			fmt.Fprintln(w, "\n<details><summary>Anomalies treated differently</summary>\n\n| started | anomaly | before | after |\n|---|---|---|---|")
			for i, d := range c.Differences {
				if i == maxListed {
					fmt.Fprintf(w, "| | … and %d more | | |\n", len(c.Differences)-maxListed)
					break
				}
				fmt.Fprintf(w, "| %s | `%s` | %s | %s |\n", d.At.UTC().Format(time.RFC3339), mdCell(runbooks.FormatLabels(d.Labels)), mdCell(outcomeText(d.Base)), mdCell(outcomeText(d.Head)))
			}
			fmt.Fprintln(w, "\n</details>")
		}
		return nil
	default:
		fmt.Fprintln(w, c.Summary())
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "OUTCOME\t%s\t%s\n", c.Base.Catalog, c.Head.Catalog)
		for _, a := range Actions {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", a, c.Base.Totals[a], c.Head.Totals[a])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, d := range c.Differences {
			fmt.Fprintf(w, "%s %s: %s -> %s\n", d.At.UTC().Format(time.RFC3339), runbooks.FormatLabels(d.Labels), outcomeText(d.Base), outcomeText(d.Head))
		}
		return nil
	}
}

func period(r *Report) string {
	if len(r.Results) == 0 {
		return "no anomalies in the period"
	}
	return fmt.Sprintf("from %s to %s", r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))
}

func totalsText(r *Report) string {
	parts := make([]string, 0, len(Actions))
	for _, a := range Actions {
		parts = append(parts, fmt.Sprintf("%s %d", a, r.Totals[a]))
	}
	return "totals: " + strings.Join(parts, ", ")
}

func listMarkdown(w io.Writer, results []Result) {
	fmt.Fprintln(w, "<details><summary>Each anomaly</summary>\n\n| started | anomaly | runbook | outcome | why |\n|---|---|---|---|---|")
	for i, res := range results {
		if i == maxListed {
			fmt.Fprintf(w, "| | … and %d more | | | |\n", len(results)-maxListed)
			break
		}
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s |\n", res.At.UTC().Format(time.RFC3339), mdCell(runbooks.FormatLabels(res.Labels)), dash(res.Runbook), res.Action, mdCell(res.Reason))
	}
	fmt.Fprintln(w, "\n</details>")
}

func outcomeText(r Result) string {
	if r.Runbook == "" {
		return string(r.Action)
	}
	return fmt.Sprintf("%s by %s", r.Action, r.Runbook)
}

// mdCell keeps a value inside its table cell: no pipe ends it, no newline breaks
// the row, no backtick closes the code span, and HTML is shown as text.
func mdCell(s string) string {
	r := strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "`", "'", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
