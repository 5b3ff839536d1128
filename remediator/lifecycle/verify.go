package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/verify"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Opener opens a proposal on the forge (the rollback's pull request); the local
// forge needs none: the branch is the proposal.
type Opener interface {
	Open(ctx context.Context, r forge.Request) (forge.Proposal, error)
}

// Reporter shows a merged remediation's outcome on the forge (on GitHub: a commit
// status, a comment and a label); the local forge has only the note.
type Reporter interface {
	ReportOutcome(ctx context.Context, branch, mergeSHA string, outcome forge.Outcome, detail string) error
}

// Checker judges a merged remediation: Check now, Soaked over a past period (the
// PromQL condition held at every step, the alert never fired).
type Checker interface {
	Check(ctx context.Context, a *artifact.Artifact) (verify.Result, error)
	Soaked(ctx context.Context, a *artifact.Artifact, from, to time.Time) (verify.Result, error)
}

// NoVerifier is where a merged remediation stands when nothing can verify it.
const NoVerifier = "waiting for a verifier: neither alertmanager.url nor prometheus.url is configured, so nothing checks this merge and it gets no outcome"

// verifyMerged takes each recent merged remediation without an outcome note one step
// further: applied, then resolved, then soaked (see judge).
func (r *Reconciler) verifyMerged(ctx context.Context) ([]Result, error) {
	now := r.Now()
	var merges []*object.Commit
	// Graph order: a back-dated commit pushed on top of a merge hides it from nothing.
	err := records.WalkSince(r.Infra, r.Base, now.Add(-records.VerifyHorizon), r.Infra.Signer.Public(), func(c *object.Commit) error {
		if c.NumParents() >= 2 && infrarepo.Trailers(c.Message)["Remediation-Id"] != "" {
			merges = append(merges, c)
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return nil, err
	}
	w := r.witness(merges)
	var out []Result
	var errs []error
	for _, m := range merges {
		// One merge that cannot be checked (its query fails, the forge is down for its
		// rollback) holds up none of the others; the pass reports it at the end.
		o, done, err := r.verifyOne(ctx, m, w, now)
		if err != nil {
			r.Logger.Error("verification failed to complete", "merge", m.Hash.String(), "err", err)
			errs = append(errs, err)
			continue
		}
		if done {
			out = append(out, o)
		}
	}
	return out, errors.Join(errs...)
}

// verifyOne takes one merge a step further; done is false when there is nothing to
// record yet (an outcome exists, or the change is still being applied or soaked;
// with ReportSteps the latter comes back as Verifying, with the step it waits on).
func (r *Reconciler) verifyOne(ctx context.Context, m *object.Commit, w *records.Witness, now time.Time) (Result, bool, error) {
	id, art, err := r.awaitingOutcome(m)
	if art == nil || err != nil {
		return Result{}, false, err
	}
	ctx, span := r.span(ctx, art, "verify")
	defer span.End()
	v, err := r.verdictOf(ctx, m, art, id, w, now)
	if err != nil {
		return Result{}, false, err
	}
	span.SetAttributes(tracing.Action.String(string(v.outcome)))
	o := Result{ID: id, Branch: decision.Branch(id), Merge: m.Hash.String(), Action: decision.Action(v.outcome), Reason: v.detail, TraceID: tracing.TraceID(ctx)}
	if r.DryRun {
		if v.outcome == "" {
			o.Action, o.Reason = decision.Verifying, v.state
		} else {
			o.Reason = "would be recorded now: " + v.detail
		}
		return o, true, nil
	}
	if v.outcome == "" {
		// Nothing to record yet. With ReportSteps it is said all the same: the
		// status on GitHub shows what the last pass found, and a merge no pass
		// mentions would drop out of "being verified" until its outcome.
		o.Action, o.Reason = decision.Verifying, v.state
		return o, r.ReportSteps, nil
	}
	return r.recordOutcome(ctx, m, art, o, v, now)
}

// awaitingOutcome is the artifact of a merge the remediator made whose outcome is
// not recorded yet; nil when there is nothing to verify (a merge by hand, an outcome
// recorded, no readable artifact).
func (r *Reconciler) awaitingOutcome(m *object.Commit) (string, *artifact.Artifact, error) {
	id := infrarepo.Trailers(m.Message)["Remediation-Id"]
	key := r.Infra.Signer.Public()
	if why, err := records.MergeProvenanceOf(r.Infra, m, id, key); err != nil || why != "" {
		// A merge by hand is people's own process: the remediator neither vouches
		// for its outcome nor rolls it back (audit verify reports it).
		r.Logger.Debug("merge not verified", "remediation_id", id, "merge", m.Hash.String(), "reason", why)
		return id, nil, err
	}
	note, _, err := r.Infra.Note(records.OutcomeRef, m.Hash)
	if err != nil {
		return id, nil, err
	}
	if ev := records.ReadOutcome(note, m.Hash, key); ev.Outcome != "" {
		return id, nil, nil
	} else if ev.Tampered != "" {
		r.Logger.Warn("outcome note not written by the remediator; verifying the merge itself", "remediation_id", id, "merge", m.Hash.String(), "reason", ev.Tampered)
	}
	data, err := r.Infra.ReadFile(m.Hash, artifact.Path(id))
	if err != nil {
		return id, nil, nil //nolint:nilerr // no artifact: audit verify reports it
	}
	art, err := artifact.Decode(data)
	if err != nil {
		return id, nil, nil //nolint:nilerr // same
	}
	return id, art, nil
}

// verdictOf judges the merge, unless the remediator's own records already say it
// failed (its rollback proposed, or a record of its verification deleted).
func (r *Reconciler) verdictOf(ctx context.Context, m *object.Commit, art *artifact.Artifact, id string, w *records.Witness, now time.Time) (verdict, error) {
	if r.rollbackProposed(id, r.Infra.Signer.Public()) {
		// It failed before: its rollback is the remediator's own word for that,
		// whatever became of the outcome note. It is not judged again.
		return verdict{outcome: forge.OutcomeFailed, detail: "its rollback was proposed earlier; the note that recorded the failure was removed"}, nil
	}
	deleted, err := records.DeletedRecordOf(r.Infra, w, m.Hash)
	switch {
	case err != nil:
		return verdict{}, err
	case deleted != "":
		// A record of its verification was there and is gone: judged again, the
		// deletion could turn a failure into a success. It is failed, for good.
		return verdict{outcome: forge.OutcomeFailed, detail: deleted, deleted: true}, nil
	case r.Verifier == nil:
		// Only a dry run gets here (see verifyAfter): it says what the merge waits on.
		return verdict{state: NoVerifier}, nil
	}
	return r.judge(ctx, m, art, now)
}

// recordOutcome reports the outcome, proposes the rollback of a failure, and seals
// the outcome note; done is false when another replica recorded it first (its to
// tell and count).
func (r *Reconciler) recordOutcome(ctx context.Context, m *object.Commit, art *artifact.Artifact, o Result, v verdict, now time.Time) (Result, bool, error) {
	id, key := o.ID, r.Infra.Signer.Public()
	// Reported before the note: the note ends the work on this merge, and every
	// step of the report is idempotent, so a report that fails is retried.
	if r.Reporter != nil {
		if err := r.Reporter.ReportOutcome(ctx, o.Branch, o.Merge, v.outcome, v.detail); err != nil {
			return o, false, fmt.Errorf("report outcome of %s: %w", id, err)
		}
	}
	// The rollback too comes before the note: proposing it again is harmless (the
	// branch exists, the forge returns the open pull request), a failed remediation
	// without its rollback is not.
	if v.outcome == forge.OutcomeFailed && art.Rollback != runbooks.RollbackNone && !v.deleted {
		rolled, err := r.proposeRollback(ctx, m, art)
		if err != nil {
			return o, false, err
		}
		o.Reason += "; " + rolled
	}
	sealed, err := records.Seal(r.Infra.Signer, records.KindOutcome, m.Hash, outcomeNote(v, art, m, now))
	if err != nil {
		return o, false, err
	}
	first := false
	if _, err := r.Infra.UpdateNote(ctx, records.OutcomeRef, m.Hash, "outcome of "+id, r.by(now),
		func(old []byte) ([]byte, error) {
			if records.ReadOutcome(old, m.Hash, key).Outcome != "" {
				first = false
				return old, nil // another replica recorded it first
			}
			first = true
			return sealed, nil // and a note someone else wrote is replaced
		}); err != nil {
		return o, false, err
	}
	if !first {
		return Result{}, false, nil
	}
	r.Logger.Info("remediation checked", "remediation_id", id, "outcome", o.Action, "detail", v.detail)
	return o, true, nil
}

// rollbackProposed says whether the remediator pushed the rollback of remediation id:
// its branch exists with the remediator's own commit for the rollback's id.
func (r *Reconciler) rollbackProposed(id string, key ssh.PublicKey) bool {
	rid := id + artifact.RollbackSuffix
	head, ok := r.Infra.Branch(decision.Branch(rid))
	if !ok {
		return false
	}
	c, err := r.Infra.Commit(head)
	return err == nil && records.Provenance(c, rid, key) == ""
}

// outcomeNote is the outcome note's text: the outcome and the times that led to it.
func outcomeNote(v verdict, art *artifact.Artifact, m *object.Commit, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "outcome: %s\nchecked_at: %s\nmerged_at: %s\n", v.outcome, now.UTC().Format(time.RFC3339), m.Committer.When.UTC().Format(time.RFC3339))
	if !v.progress.AppliedAt.IsZero() {
		fmt.Fprintf(&b, "applied_at: %s\n", v.progress.AppliedAt.UTC().Format(time.RFC3339))
	}
	if !v.progress.ResolvedSince.IsZero() {
		fmt.Fprintf(&b, "resolved_since: %s\n", v.progress.ResolvedSince.UTC().Format(time.RFC3339))
	}
	if v.deleted {
		fmt.Fprintf(&b, "%s: true\n", records.RecordDeletedLine)
	}
	within, soak, applyTimeout := art.Verify.Durations()
	fmt.Fprintf(&b, "applied_check: %s\napply_timeout: %s\nwithin: %s\nsoak: %s\ndetail: %s\n", artifact.OneLine(art.Verify.Check()),
		span(applyTimeout), span(within), span(soak), artifact.OneLine(v.detail))
	return b.String()
}

// proposeRollback proposes the revert of a failed remediation's merge on its own
// branch, under the same approval rules.
func (r *Reconciler) proposeRollback(ctx context.Context, merge *object.Commit, art *artifact.Artifact) (string, error) {
	plan, err := r.Infra.PlanUndo(r.Base, merge.Hash, func(p string) bool { return strings.HasPrefix(p, artifact.Dir+"/") })
	if errors.Is(err, infrarepo.ErrRevertConflict) {
		return "verification failed; the revert conflicts with a later change: " + err.Error(), nil
	}
	if err != nil {
		return "", err
	}
	wt, err := r.Infra.Checkout(ctx, r.Base)
	if err != nil {
		return "", err
	}
	defer wt.Close()
	rb := &artifact.Artifact{
		ID: art.ID + artifact.RollbackSuffix, RollbackOf: art.ID, Runbook: art.Runbook, RunbookVersion: art.RunbookVersion, Policy: art.Policy, Risk: art.Risk,
		RequiredApprovals: art.RequiredApprovals, Target: art.Target, Anomaly: art.Anomaly, Rollback: "none",
		Expected: fmt.Sprintf("the state before remediation %s is restored", art.ID),
		// Applied is all a rollback proves: the state before is back.
		Verify:     artifact.Verify{Within: art.Verify.Within, Soak: "0s", ApplyTimeout: art.Verify.ApplyTimeout, AppliedCheck: art.Verify.AppliedCheck},
		Reverts:    []artifact.Reverted{{Commit: merge.Hash.String(), Subject: "Merge remediation " + art.ID}},
		Merge:      artifact.Merge{Allowed: true},
		ProposedAt: artifact.Timestamp(r.Now()),
	}
	var files []string
	for _, f := range plan.Files {
		dst := filepath.Join(wt.Dir, filepath.FromSlash(f.Path))
		if f.Delete {
			files = append(files, f.Path)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, f.Content, 0o644); err != nil {
			return "", err
		}
		files = append(files, f.Path)
		rb.Changes = append(rb.Changes, artifact.Change{File: f.Path, Path: "revert " + merge.Hash.String()[:12], From: "remediated", To: "before " + art.ID})
	}
	data, err := rb.Encode()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(wt.Dir, artifact.Dir), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(wt.Dir, filepath.FromSlash(artifact.Path(rb.ID))), data, 0o644); err != nil {
		return "", err
	}
	files = append(files, artifact.Path(rb.ID))
	msg := strings.Replace(rb.CommitMessage(), "remediation(", "rollback(", 1)
	c, err := wt.Commit(files, msg, r.AuthorName, r.AuthorEmail, r.Now())
	if err != nil {
		return "", err
	}
	branch := decision.Branch(rb.ID)
	if err := wt.Push(ctx, c, branch); err != nil && !errors.Is(err, infrarepo.ErrBranchExists) {
		return "", err
	}
	if r.Opener != nil {
		stat, err := wt.Stat(c)
		if err != nil {
			return "", err
		}
		req := forge.Request{Branch: branch, Base: r.Base, Head: c.Hash.String(), Artifact: rb, Seen: r.Now()}
		for _, s := range stat {
			req.DiffStat = append(req.DiffStat, forge.FileStat{File: s.File, Additions: s.Additions, Deletions: s.Deletions})
		}
		p, err := r.Opener.Open(ctx, req)
		if err != nil {
			return "", fmt.Errorf("open the rollback of %s: %w", art.ID, err)
		}
		return "verification failed; rollback proposed on " + branch + " (" + p.URL + ")", nil
	}
	return "verification failed; rollback proposed on " + branch, nil
}
