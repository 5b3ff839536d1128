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

// RecordOf reads a runbook version's record from the outcome notes of its merges.
func RecordOf(repo *infrarepo.Repo, base, runbook, version string) (Record, error) {
	rec := Record{Runbook: runbook, Version: version}
	broken := false
	err := repo.WalkFirstParent(base, func(c *object.Commit) error {
		if c.NumParents() < 2 {
			return nil
		}
		tr := infrarepo.Trailers(c.Message)
		if tr["Runbook"] != runbook || tr["Runbook-Version"] != version || artifact.IsRollback(tr["Remediation-Id"]) {
			return nil
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
			if !broken {
				rec.Streak++
			}
		case forge.OutcomeFailed:
			rec.Failed++
			if !broken {
				rec.LastFailure = c.Committer.When
			}
			broken = true
		case forge.OutcomeNotApplied:
			rec.NotApplied++
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return rec, fmt.Errorf("record of runbook %s: %w", runbook, err)
	}
	return rec, nil
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
