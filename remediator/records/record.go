package records

import (
	"fmt"
	"math"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Record is what one version of a runbook has earned: the outcomes of its merged
// remediations on the base branch (rollbacks are not its evidence). Autonomy is
// earned per version, so a changed runbook starts from nothing.
type Record struct {
	Runbook    string `json:"runbook"`
	Version    string `json:"version"`
	Verified   int    `json:"verified"`
	Failed     int    `json:"failed"`
	NotApplied int    `json:"not_applied"`
	// Pending are merged but have no outcome yet.
	Pending int `json:"pending"`
	// Streak counts the verified outcomes since the version's last failure.
	Streak int `json:"streak"`
	// LastFailure is when the newest failed remediation of the version merged.
	LastFailure time.Time `json:"last_failure,omitzero"`
	// Unaccounted are merges without a believable outcome: a note the remediator
	// did not seal, or none within the verification horizon. They break the streak.
	Unaccounted int `json:"unaccounted"`
	// LastUnaccounted is when the newest of them merged.
	LastUnaccounted time.Time `json:"last_unaccounted,omitzero"`
	// Deleted are merges a sealed record of whose verification was deleted: while
	// any is, the version earns no autonomy (a deletion never earns any).
	Deleted int `json:"deleted"`
	// LastPending is when the newest merge awaiting its outcome merged, when it is
	// newer than every counted outcome: autonomy waits for it.
	LastPending time.Time `json:"last_pending,omitzero"`
	// Rejected are merges an operator reverted: a rejection of the version for that
	// target, whatever their outcome. They break the streak.
	Rejected int `json:"rejected"`
	// LastRejected is when the newest of them merged.
	LastRejected time.Time `json:"last_rejected,omitzero"`
}

// RecordKey names one version of one runbook.
type RecordKey struct{ Runbook, Version string }

// RecordOf reads a runbook version's record from the outcomes of its merges.
func (h History) RecordOf(runbook, version string) (Record, error) {
	key := RecordKey{runbook, version}
	recs, err := h.records(func(k RecordKey) bool { return k == key })
	if err != nil {
		return Record{Runbook: runbook, Version: version}, err
	}
	return recs.Of(runbook, version), nil
}

// Records are the records of every runbook version the base's history holds.
type Records map[RecordKey]*Record

// Of is one version's record; empty (but named) when it has none.
func (rs Records) Of(runbook, version string) Record {
	if r, ok := rs[RecordKey{runbook, version}]; ok {
		return *r
	}
	return Record{Runbook: runbook, Version: version}
}

// AllRecords reads every runbook version's record in one walk of the history: what
// a view of all runbooks needs, instead of a walk per runbook.
func (h History) AllRecords() (Records, error) {
	return h.records(nil)
}

// records walks the base's history once, newest first, counting the outcomes of the
// remediator's merges whose runbook version keep accepts (nil: all). A merge without
// a believable outcome (a note someone else wrote, none after the horizon) breaks
// the streak as a failure does: nobody can vouch for it.
func (h History) records(keep func(RecordKey) bool) (Records, error) {
	recs := Records{}
	broken := map[RecordKey]bool{}
	err := h.merges(time.Time{}, keep, func(m merge) error {
		rec := recs[m.key]
		if rec == nil {
			rec = &Record{Runbook: m.key.Runbook, Version: m.key.Version}
			recs[m.key] = rec
		}
		broken[m.key] = rec.count(m, broken[m.key])
		return nil
	})
	if err != nil {
		return recs, fmt.Errorf("runbook records: %w", err)
	}
	return recs, nil
}

// count adds one merge, older than every merge counted before it, to the record;
// broken says whether a newer merge already ended the streak, and the answer whether
// the streak is ended now. Ifs, not a tagless switch: mutation testing (.mutation)
// cannot see a case's condition, and each of these is a rule.
func (r *Record) count(m merge, broken bool) bool {
	when := m.commit.Committer.When
	// An operator's revert is a rejection whatever the outcome, which still counts.
	if m.reverted {
		r.Rejected++
		if !broken {
			r.LastRejected = when
		}
	}
	broken = broken || m.reverted && m.outcome != forge.OutcomeFailed
	if m.tampered != "" || m.missing {
		if m.deleted {
			r.Deleted++
		}
		r.Unaccounted++
		if !broken {
			r.LastUnaccounted = when
		}
		return true
	}
	if m.outcome == forge.OutcomeVerified {
		r.Verified++
		if !broken {
			r.Streak++
		}
		return broken
	}
	if m.outcome == forge.OutcomeFailed {
		r.Failed++
		if !broken {
			r.LastFailure = when
		}
		return true
	}
	if m.outcome == forge.OutcomeNotApplied {
		r.NotApplied++
		return broken
	}
	// Not known yet is not a success: a merge awaiting its outcome ends the streak,
	// so that deleting a failure (which leaves its merge without an outcome) can
	// never earn autonomy.
	r.Pending++
	if !broken {
		r.LastPending = when
	}
	return true
}

// SuccessLowerBound is the lower bound of the 95% Wilson score interval of the
// version's success rate, verified over verified and failed: 0 without outcomes,
// and below the raw ratio for few (three of three is 0.44), so that luck on a
// handful of runs does not pass for a record.
func (r Record) SuccessLowerBound() float64 {
	n := float64(r.Verified + r.Failed)
	if n == 0 {
		return 0
	}
	const z = 1.959963984540054
	p := float64(r.Verified) / n
	centre := p + z*z/(2*n)
	margin := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n))
	return (centre - margin) / (1 + z*z/n)
}

// Earned says whether the record meets the policy's auto-merge terms, and why not.
func (r Record) Earned(am runbooks.AutoMerge) (bool, string) {
	if r.Deleted > 0 {
		return false, fmt.Sprintf("runbook %s version %s: a sealed record of %d of its merges was deleted; a deletion never earns autonomy", r.Runbook, r.Version, r.Deleted)
	}
	if r.Streak < am.MinVerifiedRuns {
		why := fmt.Sprintf("runbook %s version %s has %d verified run(s) in a row, auto-merge needs %d", r.Runbook, r.Version, r.Streak, am.MinVerifiedRuns)
		switch last := r.lastBreak(); {
		case last.IsZero():
		case last.Equal(r.LastPending):
			why += fmt.Sprintf(" (counted since a merge at %s whose outcome is not in yet: autonomy waits for it)", last.UTC().Format(time.RFC3339))
		case last.Equal(r.LastRejected):
			why += fmt.Sprintf(" (counted since a merge at %s that an operator reverted: a rejection)", last.UTC().Format(time.RFC3339))
		case last.Equal(r.LastUnaccounted):
			why += fmt.Sprintf(" (counted since a merge at %s whose outcome the remediator cannot vouch for)", last.UTC().Format(time.RFC3339))
		default:
			why += fmt.Sprintf(" (counted since its failure merged at %s)", last.UTC().Format(time.RFC3339))
		}
		return false, why
	}
	if am.MinSuccessRate > 0 {
		if lb := r.SuccessLowerBound(); lb < am.MinSuccessRate {
			return false, fmt.Sprintf("runbook %s version %s: %d verified and %d failed, a success rate of at least %.2f at 95%% confidence; auto-merge needs %.2f",
				r.Runbook, r.Version, r.Verified, r.Failed, lb, am.MinSuccessRate)
		}
	}
	return true, ""
}

// lastBreak is when the merge that broke the streak merged: the newest failure or
// unaccounted merge.
func (r Record) lastBreak() time.Time {
	last := r.LastFailure
	for _, t := range []time.Time{r.LastUnaccounted, r.LastPending, r.LastRejected} {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// Autonomy is whether a runbook's proposals under a policy may merge without a
// human now: the policy must allow its risk, and its current version must have
// earned it.
type Autonomy struct {
	Record       Record `json:"record"`
	MayAutoMerge bool   `json:"may_auto_merge"`
	// Reason says why not, when not.
	Reason string `json:"reason,omitempty"`
}

// AutonomyOf reads the record of the runbook's current version and judges it.
func (h History) AutonomyOf(rb *runbooks.Runbook, pol *runbooks.Policy) (Autonomy, error) {
	version, err := runbooks.Version(rb)
	if err != nil {
		return Autonomy{}, err
	}
	rec, err := h.RecordOf(rb.Metadata.Name, version)
	if err != nil {
		return Autonomy{}, err
	}
	a := Autonomy{Record: rec}
	am := pol.Spec.AutoMerge
	if !am.Allows(rb.Spec.Risk) {
		a.Reason = fmt.Sprintf("policy %s lets no %s-risk change merge without a human (auto_merge.max_risk %s)", pol.Metadata.Name, rb.Spec.Risk, am.MaxRisk)
		return a, nil
	}
	a.MayAutoMerge, a.Reason = rec.Earned(am)
	return a, nil
}
