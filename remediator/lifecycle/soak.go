package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// verdict is what judge decided: an outcome, or "" to wait.
type verdict struct {
	outcome  forge.Outcome
	detail   string
	progress records.Progress
	// state says where a remediation without an outcome stands.
	state string
	// deleted: a sealed record of its verification was deleted (no rollback then:
	// nothing about the change itself failed).
	deleted bool
}

// judge takes a merge one step along applied -> resolved -> soaked:
//   - until the applied check succeeds on the merge commit, it waits; a failed apply,
//     or none within apply_timeout of the merge, is not-applied;
//   - applied, the anomaly must go within `within` (failed otherwise);
//   - gone, it must stay gone, and the PromQL condition hold at every step, for the
//     soak period (a relapse is failed); then it is verified.
func (r *Reconciler) judge(ctx context.Context, m *object.Commit, art *artifact.Artifact, now time.Time) (verdict, error) {
	within, soak, _ := art.Verify.Durations()
	note, _, err := r.Infra.Note(records.ProgressRef, m.Hash)
	if err != nil {
		return verdict{}, err
	}
	p := records.ReadProgress(note, m.Hash, r.Infra.Signer.Public())
	v := verdict{progress: p}
	if p.AppliedAt.IsZero() {
		var done bool
		if v, done, err = r.applied(ctx, m, art, v, now); done || err != nil {
			return v, err
		}
		p = v.progress
	}
	res, err := r.Verifier.Check(ctx, art)
	if err != nil {
		return v, fmt.Errorf("verify %s: %w", art.ID, err)
	}
	if !res.Holds {
		switch {
		case !p.ResolvedSince.IsZero():
			v.outcome = forge.OutcomeFailed
			v.detail = fmt.Sprintf("relapse during the soak period (gone since %s): %s", stamp(p.ResolvedSince), res.Detail)
		case !now.Before(p.AppliedAt.Add(within)):
			v.outcome = forge.OutcomeFailed
			v.detail = fmt.Sprintf("not resolved within %s of being applied (at %s): %s", span(within), stamp(p.AppliedAt), res.Detail)
		default:
			v.state = fmt.Sprintf("applied at %s; waiting for the anomaly to go (failed at %s): %s", stamp(p.AppliedAt), stamp(p.AppliedAt.Add(within)), res.Detail)
		}
		return v, nil
	}
	if p.ResolvedSince.IsZero() {
		p.ResolvedSince = now
		if p, err = r.saveProgress(ctx, m, art.ID, p, now); err != nil {
			return v, err
		}
		v.progress = p
	}
	if now.Sub(p.ResolvedSince) >= time.Second {
		// Over the period so far, not only at this pass: a flap between two passes
		// is a relapse too.
		held, err := r.Verifier.Soaked(ctx, art, p.ResolvedSince, now)
		if err != nil {
			return v, fmt.Errorf("verify %s: %w", art.ID, err)
		}
		if !held.Holds {
			v.outcome = forge.OutcomeFailed
			v.detail = fmt.Sprintf("relapse during the soak period (gone since %s): %s", stamp(p.ResolvedSince), held.Detail)
			return v, nil
		}
	}
	if now.Sub(p.ResolvedSince) < soak {
		v.state = fmt.Sprintf("soaking since %s; verified at %s if it holds", stamp(p.ResolvedSince), stamp(p.ResolvedSince.Add(soak)))
		return v, nil
	}
	v.outcome = forge.OutcomeVerified
	v.detail = fmt.Sprintf("%s; applied at %s, and it held for the soak period of %s since %s", res.Detail, stamp(p.AppliedAt), span(soak), stamp(p.ResolvedSince))
	return v, nil
}

// applied is the first step of judge: it waits for the applied check on the merge
// commit, and seals when it saw it succeed, with the reports that said so. done is
// true when the verdict is reached (not applied) or the step waits.
func (r *Reconciler) applied(ctx context.Context, m *object.Commit, art *artifact.Artifact, v verdict, now time.Time) (verdict, bool, error) {
	_, _, applyTimeout := art.Verify.Durations()
	check := art.Verify.Check()
	checks, err := r.facts().Checks(ctx, m.Hash.String())
	if err != nil {
		return v, true, fmt.Errorf("verify %s: checks of the merge commit: %w", art.ID, err)
	}
	switch checks[check] {
	case forge.CheckSuccess:
		p := v.progress
		p.AppliedAt = now
		if p.DecidedOn, err = r.appliedOn(m, check); err != nil {
			return v, true, err
		}
		if v.progress, err = r.saveProgress(ctx, m, art.ID, p, now); err != nil {
			return v, true, err
		}
		return v, false, nil
	case forge.CheckFailure:
		v.outcome = forge.OutcomeNotApplied
		v.detail = fmt.Sprintf("the apply failed: check %s reports failure on the merge commit", check)
		return v, true, nil
	}
	if deadline := m.Committer.When.Add(applyTimeout); now.Before(deadline) {
		v.state = fmt.Sprintf("waiting for check %s on the merge commit (not-applied at %s)", check, stamp(deadline))
		return v, true, nil
	}
	v.outcome = forge.OutcomeNotApplied
	v.detail = fmt.Sprintf("no check %s reported success on the merge commit within apply_timeout %s of the merge", check, span(applyTimeout))
	return v, true, nil
}

// saveProgress records how far a merge has come; a replica that recorded more
// already keeps its times (the earliest sighting wins).
func (r *Reconciler) saveProgress(ctx context.Context, m *object.Commit, id string, p records.Progress, now time.Time) (records.Progress, error) {
	if r.DryRun {
		return p, nil
	}
	_, err := r.Infra.UpdateNote(ctx, records.ProgressRef, m.Hash, "verification of "+id, r.by(now),
		func(old []byte) ([]byte, error) {
			had := records.ReadProgress(old, m.Hash, r.Infra.Signer.Public())
			if !had.AppliedAt.IsZero() {
				p.AppliedAt = had.AppliedAt
			}
			if !had.ResolvedSince.IsZero() {
				p.ResolvedSince = had.ResolvedSince
			}
			if len(had.DecidedOn) > 0 {
				p.DecidedOn = had.DecidedOn
			}
			return records.Seal(r.Infra.Signer, records.KindProgress, m.Hash, p.Text())
		})
	if err != nil {
		return p, fmt.Errorf("record the verification of %s: %w", id, err)
	}
	return p, nil
}

// appliedOn is the evidence verification starts on, on the local forge: the reports
// that made the applied check green on the merge commit, by hash.
func (r *Reconciler) appliedOn(m *object.Commit, check string) ([]string, error) {
	if r.Facts != nil {
		return nil, nil // GitHub's statuses: its own record, not a note anyone rewinds
	}
	all, err := records.LocalReports(r.Infra, m.Hash)
	if err != nil {
		return nil, fmt.Errorf("read the checks of %s: %w", m.Hash, err)
	}
	trust := records.CheckTrust{Signers: r.Reviewers, Reporters: r.CheckReporters, Now: r.Now()}
	var out []string
	for _, d := range records.Decided(nil, trust.Winners(m.Hash.String(), all, []string{check})) {
		out = append(out, d.String())
	}
	return out, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// span spells a duration as catalogs do: 15m, 1h, 0s.
func span(d time.Duration) string { return runbooks.Duration(d).String() }
