package plancheck

import (
	"fmt"
	"io"
	"strings"

	fastjson "github.com/goccy/go-json"
)

// Marker identifies plan-check's comment on a pull request.
const Marker = "<!-- remediation:plan-check -->"

// maxTableRows bounds the change table; the JSON output always has every change.
const maxTableRows = 2000

// Markdown writes the report: the verdict first, then the changes, then each
// violation with its reason.
func (r *Result) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString(Marker + "\n")
	switch {
	case !r.Remediation:
		fmt.Fprintf(&b, "### ✅ plan-check: passed (%s)\n\n%d resource(s) change.\n", r.Note, len(r.Changes))
	case r.Passed():
		fmt.Fprintf(&b, "### ✅ plan-check: passed\n\nRemediation `%s` (runbook **%s**, policy **%s**, risk **%s**): %d resource(s) change, all within the limits.\n",
			cell(r.ID), cell(r.Runbook), cell(r.Policy), cell(r.Risk), len(r.Changes))
	default:
		fmt.Fprintf(&b, "### ❌ plan-check: %d violation(s)\n\nRemediation `%s` (runbook **%s**, policy **%s**, risk **%s**): %d resource(s) change; the plan goes beyond what the runbook and policy allow.\n",
			len(r.Violations), cell(r.ID), cell(r.Runbook), cell(r.Policy), cell(r.Risk), len(r.Changes))
	}
	if r.Remediation && r.Note != "" {
		fmt.Fprintf(&b, "\n> **Note:** %s\n", r.Note)
	}
	if len(r.Changes) > 0 {
		b.WriteString("\n| | address | type | action |\n|---|---|---|---|\n")
		for i, c := range r.Changes {
			if i == maxTableRows {
				fmt.Fprintf(&b, "| | … %d more | | |\n", len(r.Changes)-maxTableRows)
				break
			}
			mark := "✅"
			if !c.OK {
				mark = "❌"
			}
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", mark, cell(c.Address), cell(c.Type), c.Action)
		}
	}
	if len(r.Violations) > 0 {
		b.WriteString("\n#### Violations\n\n")
		for _, v := range r.Violations {
			if v.Address != "" {
				fmt.Fprintf(&b, "- **%s** `%s`: %s\n", v.Rule, cell(v.Address), v.Reason)
			} else {
				fmt.Fprintf(&b, "- **%s**: %s\n", v.Rule, v.Reason)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON writes the result as one JSON document.
func (r *Result) JSON(w io.Writer) error {
	// Compact, and encoded with goccy/go-json: a report of 10,000 changes is for jq
	// and programs, and encoding it costs as much as checking the plan.
	enc := fastjson.NewEncoder(w)
	type view struct {
		Outcome string `json:"result"`
		*Result
	}
	v := view{Outcome: "pass", Result: r}
	switch {
	case !r.Remediation:
		v.Outcome = "not-a-remediation"
	case !r.Passed():
		v.Outcome = "fail"
	}
	return enc.Encode(v)
}

// cell keeps a value inside one table cell or code span.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "|", `\|`)
}
