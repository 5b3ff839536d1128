package audit

import (
	"fmt"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
)

// Verify adds the findings about approvals and outcomes to the ledger's own (the
// artifacts changed outside their merge, found while building it).
func (l *Ledger) Verify() []Finding {
	out := append([]Finding(nil), l.Findings...)
	for _, e := range l.Entries {
		backed := map[string]bool{}
		counted, _ := lifecycle.Counted(e.noteApps, e.headAuth[0], e.headAuth[1])
		for _, a := range counted {
			backed[strings.ToLower(a.String())] = true
		}
		valid := 0
		for _, who := range distinct(e.Approvers) {
			if backed[strings.ToLower(who)] {
				valid++
				continue
			}
			out = append(out, Finding{Commit: e.Merge, ID: e.ID, Kind: FindingUnbacked,
				Detail: fmt.Sprintf("Approved-by %s has no approval recorded on the proposal head %s", who, e.Head[:12])})
		}
		if valid < e.RequiredApprovals {
			out = append(out, Finding{Commit: e.Merge, ID: e.ID, Kind: FindingApprovals,
				Detail: fmt.Sprintf("merged with %d valid approval(s); policy %s required %d for risk %s", valid, e.Policy, e.RequiredApprovals, e.Risk)})
		}
		if e.Outcome == OutcomeMissing {
			out = append(out, Finding{Commit: e.Merge, ID: e.ID, Kind: FindingNoOutcome,
				Detail: fmt.Sprintf("merged at %s; no outcome recorded within %s", e.MergedAt.UTC().Format("2006-01-02T15:04:05Z"), e.within)})
		}
	}
	return out
}

func distinct(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// String is the finding as one line of `audit verify`.
func (f Finding) String() string {
	id := f.ID
	if id == "" {
		id = "-"
	}
	return fmt.Sprintf("%s %s %s: %s", f.Commit[:12], f.Kind, id, f.Detail)
}
