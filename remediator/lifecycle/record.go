package lifecycle

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
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
}

// RecordKey names one version of one runbook.
type RecordKey struct{ Runbook, Version string }

// RecordOf reads a runbook version's record from the outcome notes of its merges.
func RecordOf(repo *infrarepo.Repo, base, runbook, version string) (Record, error) {
	key := RecordKey{runbook, version}
	recs, err := records(repo, base, func(k RecordKey) bool { return k == key })
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
func AllRecords(repo *infrarepo.Repo, base string) (Records, error) {
	return records(repo, base, nil)
}

// records walks the base's first-parent history once, newest first, counting the
// outcomes of the merges whose runbook version keep accepts (nil: all).
func records(repo *infrarepo.Repo, base string, keep func(RecordKey) bool) (Records, error) {
	recs := Records{}
	broken := map[RecordKey]bool{}
	err := repo.WalkFirstParent(base, func(c *object.Commit) error {
		if c.NumParents() < 2 {
			return nil
		}
		tr := infrarepo.Trailers(c.Message)
		key := RecordKey{tr["Runbook"], tr["Runbook-Version"]}
		if key.Runbook == "" || artifact.IsRollback(tr["Remediation-Id"]) || (keep != nil && !keep(key)) {
			return nil
		}
		rec := recs[key]
		if rec == nil {
			rec = &Record{Runbook: key.Runbook, Version: key.Version}
			recs[key] = rec
		}
		note, found, err := repo.Note(OutcomeRef, c.Hash)
		if err != nil {
			return err
		}
		if !found {
			rec.Pending++
			return nil
		}
		switch OutcomeOf(note) {
		case forge.OutcomeVerified:
			rec.Verified++
			if !broken[key] {
				rec.Streak++
			}
		case forge.OutcomeFailed:
			rec.Failed++
			if !broken[key] {
				rec.LastFailure = c.Committer.When
			}
			broken[key] = true
		case forge.OutcomeNotApplied:
			rec.NotApplied++
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return recs, fmt.Errorf("runbook records: %w", err)
	}
	return recs, nil
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
	if r.Streak < am.MinVerifiedRuns {
		why := fmt.Sprintf("runbook %s version %s has %d verified run(s) in a row, auto-merge needs %d", r.Runbook, r.Version, r.Streak, am.MinVerifiedRuns)
		if !r.LastFailure.IsZero() {
			why += fmt.Sprintf(" (counted since its failure merged at %s)", r.LastFailure.UTC().Format(time.RFC3339))
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
func AutonomyOf(repo *infrarepo.Repo, base string, rb *runbooks.Runbook, pol *runbooks.Policy) (Autonomy, error) {
	version, err := runbooks.Version(rb)
	if err != nil {
		return Autonomy{}, err
	}
	rec, err := RecordOf(repo, base, rb.Metadata.Name, version)
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
