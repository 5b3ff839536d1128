package audit

import (
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// Findings of the rule "what the remediator saw is what it decided on".
const (
	// FindingEvidenceChanged: a piece of evidence the merge names is no longer in the
	// notes of its head, word for word (rewound, reordered into something else,
	// deleted).
	FindingEvidenceChanged = "evidence-changed"
	// FindingEvidenceMissing: a merge of the remediator's with approvals that names
	// its evidence but no approval among it, or names it unreadably.
	FindingEvidenceMissing = "evidence-missing"
)

// decided compares the evidence a merge the remediator signed names (its Decided-On
// trailers, which its signature covers) with the notes of the merged head as they
// are now. A GitHub merge is GitHub's commit: the remediator's sealed records of the
// reviews it counted stand for its evidence there.
func decided(merge *object.Commit, e *Entry, t Trust, add func(kind, format string, args ...any)) {
	if t.Remediator == nil || signing.VerifyCommit(merge, t.Remediator) != nil {
		return
	}
	var ev []records.DecidedOn
	for _, v := range e.DecidedOn {
		d, err := records.ParseDecidedOn(v)
		if err != nil {
			add(FindingEvidenceMissing, "%v", err)
			continue
		}
		ev = append(ev, d)
	}
	// A signed merge with no Decided-On at all was made before the remediator named
	// its evidence: its signature covers its message, so nobody stripped them, and
	// an upgrade must not turn every earlier merge into a finding.
	if len(e.DecidedOn) > 0 && !hasApprovalEvidence(ev) && len(e.Approvers) > 0 {
		add(FindingEvidenceMissing, "merged with Approved-by %s but names no approval it was decided on (%s)",
			strings.Join(e.Approvers, ", "), records.DecidedOnTrailer)
	}
	for _, u := range records.Unmatched(ev, e.approvalsNote, e.checksNote) {
		add(FindingEvidenceChanged, "it was decided on %s, which the notes of its head %s no longer hold: rewound, reordered or deleted since",
			u, e.Head[:12])
	}
}

func hasApprovalEvidence(ev []records.DecidedOn) bool {
	for _, d := range ev {
		if d.Kind == records.EvidenceApproval {
			return true
		}
	}
	return false
}
