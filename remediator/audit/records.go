package audit

import (
	"fmt"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// FindingRecordDeleted: a sealed record of the remediator's (an outcome, a
// verification's progress, a rejection) that a signed merge committed to is gone, or
// the remediator found one gone and recorded the merge failed for it.
const FindingRecordDeleted = "record-deleted"

// deletedRecords checks the records refs against the tips the remediator's signed
// merges committed to (the rule "deleting records is visible", remediator/TRUST.md).
func (l *Ledger) deletedRecords(repo *git.Repository, t Trust) []Finding {
	if t.Remediator == nil {
		return nil
	}
	current := records.RecordTips{}
	for _, ref := range []string{records.OutcomeRef, records.ProgressRef, records.RejectionsRef} {
		if r, err := repo.Reference(plumbing.ReferenceName(ref), true); err == nil {
			current[ref] = r.Hash()
		}
	}
	w := records.NewWitness(repo.Storer, current)
	var out []Finding
	for _, e := range l.Entries {
		merge, err := repo.CommitObject(plumbing.NewHash(e.Merge))
		if err != nil {
			continue // reported by the entry's own checks
		}
		if tips := records.TipsOf(merge.Message); len(tips) > 0 && signing.VerifyCommit(merge, t.Remediator) == nil {
			w.Add(merge.Hash, tips)
		}
		if e.outcomeNote != nil {
			if ev := records.ReadOutcome(e.outcomeNote, merge.Hash, t.Remediator); ev.Tampered == "" && records.RecordDeleted(ev.Body) {
				out = append(out, Finding{Commit: e.Merge, ID: e.ID, Kind: FindingRecordDeleted,
					Detail: "the remediator found a sealed record of its verification deleted and recorded it failed"})
			}
		}
	}
	for _, d := range w.Rewound() {
		out = append(out, Finding{Commit: d.Merge.String(), Kind: FindingRecordDeleted,
			Detail: fmt.Sprintf("%s was rewound past the tip this signed merge committed to: the records it held may be gone", d.Ref)})
	}
	deleted, err := w.Deleted()
	if err != nil {
		return append(out, Finding{Kind: FindingRecordDeleted, Detail: fmt.Sprintf("read the records refs: %v", err)})
	}
	for _, d := range deleted {
		out = append(out, Finding{Commit: d.Merge.String(), Kind: FindingRecordDeleted,
			Detail: fmt.Sprintf("the record on %s in %s, which this signed merge committed to, is gone", d.Object, d.Ref)})
	}
	return out
}
