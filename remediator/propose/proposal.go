package propose

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/bounds"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// proposal is one anomaly on its way to a pull request: what routing decided (the
// acting runbook, its policy), the anomaly, and what becomes of it so far. Its
// methods are the steps, as flux's CheckoutSource → update → CommitAndPush: look at
// what exists, then build the change on a work tree, commit, push, open.
type proposal struct {
	p   *Proposer
	d   decision.Decision
	rb  *runbooks.Runbook
	pol *runbooks.Policy
	a   intake.Anomaly
	// replace is the head of a closed or merged proposal's leftover branch: the new
	// proposal replaces exactly it (compare-and-swap); zero for a new branch.
	replace plumbing.Hash
	dryRun  bool
	log     *slog.Logger
	res     Result
	// reserve is the reservation the push makes, as the gate counted it.
	reserve reservation
}

// propose looks at what already exists for the remediation (an open proposal, a
// rejected one, a branch pushed without its proposal) and else opens a new one,
// unless the breaker, the cooldown or a limit holds it back.
func (pr *proposal) propose(ctx context.Context) (Result, error) {
	p := pr.p
	if err := p.Infra.Fetch(ctx); err != nil {
		return pr.res, err
	}
	head, branchExists := p.Infra.Branch(pr.res.Branch)
	prop, found, err := p.Forge.Lookup(ctx, pr.res.Branch)
	if err != nil {
		return pr.res, err
	}
	if found || branchExists {
		if res, done, err := pr.existing(ctx, prop, found, head, branchExists); done || err != nil {
			return res, err
		}
	}
	if done, err := pr.admit(ctx); done || err != nil {
		return pr.res, err
	}
	// A closed or merged proposal's branch may still be there: the new proposal
	// replaces it, from exactly the head seen (compare-and-swap).
	if branchExists {
		pr.replace = head
	}
	return pr.open(ctx)
}

// admit asks the breaker, then the cooldown and the limits, whether a new proposal
// may be made; done when one holds it back (pr.res says why).
func (pr *proposal) admit(ctx context.Context) (bool, error) {
	if reason, err := pr.p.breaker(pr.rb, pr.pol); err != nil || reason != "" {
		if err == nil {
			pr.res.Action, pr.res.Reason = decision.Suspended, reason
			pr.log.Warn("runbook suspended", "action", pr.res.Action, "reason", reason)
		}
		return true, err
	}
	return pr.gate(ctx)
}

// gate counts the proposal against the cooldown and the limits; done when they hold
// it back (pr.res says why). The reservation read is kept for the push.
func (pr *proposal) gate(ctx context.Context) (bool, error) {
	reason, r, err := pr.p.gate(ctx, pr.rb, pr.pol, pr.res.ID)
	if err != nil {
		return true, err
	}
	pr.reserve = r
	if reason != "" {
		pr.res.Action, pr.res.Reason = decision.Suppressed, reason
		pr.log.Info("suppressed", "action", pr.res.Action, "reason", reason)
		return true, nil
	}
	return false, nil
}

// existing handles a remediation that already has a proposal or a branch: done is
// false when a new proposal may be opened in their place.
func (pr *proposal) existing(ctx context.Context, prop forge.Proposal, found bool, head plumbing.Hash, branchExists bool) (Result, bool, error) {
	switch {
	case found && prop.RejectedBy != "":
		// Closed by someone other than the remediator: a rejection, whatever labels
		// it carries, and one a reopen does not undo.
		if r, done := rejectedProposal(pr.res, prop, pr.rb.Spec.Cooldown.Std(), pr.p.Now()); done {
			pr.log.Info("suppressed", "action", r.Action, "reason", r.Reason)
			return r, true, nil
		}
	case found && prop.State == forge.Open:
		res, err := pr.recur(ctx, prop, head)
		return res, true, err
	case branchExists && !found:
		// The branch was pushed but its proposal never opened (a crash between the
		// two, or a forge that refused): open it now from what the branch records.
		res, err := pr.reopen(ctx, head)
		return res, true, err
	case found && prop.State == forge.Closed && !slices.Contains(prop.Labels, forge.LabelResolved) && !slices.Contains(prop.Labels, forge.LabelSuperseded):
		// Rejected by a reviewer (not withdrawn because the anomaly resolved, nor
		// superseded by a change of the catalog).
		if cd := pr.rb.Spec.Cooldown.Std(); cd > 0 && pr.p.Now().Before(prop.Closed.Add(cd)) {
			pr.res.Action = decision.Suppressed
			pr.res.Reason = fmt.Sprintf("the proposal %s was closed without merge at %s; suppressed until %s (cooldown)",
				prop.URL, prop.Closed.UTC().Format(time.RFC3339), prop.Closed.Add(cd).UTC().Format(time.RFC3339))
			pr.log.Info("suppressed", "action", pr.res.Action, "reason", pr.res.Reason)
			return pr.res, true, nil
		}
	}
	return pr.res, false, nil
}

// open builds the change on a work tree of the base, commits it with its artifact,
// pushes it and opens the proposal on the forge.
func (pr *proposal) open(ctx context.Context) (Result, error) {
	wt, err := pr.p.Infra.Checkout(ctx, pr.p.Base)
	if err != nil {
		return pr.res, err
	}
	defer wt.Close()
	art, files, err := pr.edit(ctx, wt)
	if err != nil || len(files) == 0 {
		return pr.res, err
	}
	commit, err := pr.commit(ctx, wt, art, files)
	if err != nil {
		return pr.res, err
	}
	if pr.dryRun {
		pr.res.Action, pr.res.Reason = decision.Opened, "dry run: nothing was pushed"
		pr.res.Diff, err = wt.Diff(commit)
		return pr.res, err
	}
	stat, err := wt.Stat(commit)
	if err != nil {
		return pr.res, err
	}
	if pushed, err := pr.push(ctx, wt, commit); !pushed || err != nil {
		return pr.res, err
	}
	return pr.openOnForge(ctx, art, commit, stat, len(files)-1)
}

// artifact is the record the proposal carries: what, why, under which limits.
func (pr *proposal) artifact(ctx context.Context) (*artifact.Artifact, error) {
	act, a, now := pr.d.Acting, pr.a, pr.p.Now()
	art := &artifact.Artifact{
		ID: act.ID, Runbook: act.Runbook, Policy: pr.d.Policy, Risk: act.Risk, RequiredApprovals: act.RequiredApprovals,
		Target: act.Target, Rollback: pr.rb.Spec.Rollback, ProposedAt: artifact.Timestamp(now),
		Anomaly: artifact.Anomaly{
			Fingerprint: a.Fingerprint, Source: a.Source, Status: a.Status, StartsAt: artifact.Timestamp(a.StartsAt),
			Value: a.Value, Labels: a.Labels, Annotations: a.Annotations,
		},
		Verify:      artifact.VerifyOf(pr.rb, pr.pol),
		TraceParent: tracing.Inject(ctx),
		Expected:    expected(pr.rb, pr.pol, a),
		Limits:      artifact.LimitsOf(pr.rb, pr.pol),
		Merge:       mergeWindow(pr.pol, now),
	}
	var err error
	art.RunbookVersion, err = runbooks.Version(pr.rb)
	return art, err
}

// edit applies the runbook's changes to the work tree and writes the artifact: the
// files to commit, none when every change is already in place (pr.res says so).
func (pr *proposal) edit(ctx context.Context, wt *infrarepo.WorkTree) (*artifact.Artifact, []string, error) {
	art, err := pr.artifact(ctx)
	if err != nil {
		return nil, nil, err
	}
	_, editSpan := pr.p.span(ctx, "edit")
	files, err := pr.applyChanges(wt, art)
	editSpan.End()
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		pr.res.Action, pr.res.Reason = decision.Unchanged, "every change is already in place on "+pr.p.Base
		for _, c := range pr.rb.Spec.Changes {
			if c.Kind == runbooks.ChangeRevert {
				pr.res.Reason = fmt.Sprintf("nothing to revert: no commit on %s within %s before the anomaly started changes %s", pr.p.Base, c.Within, strings.Join(c.Paths, ", "))
			}
		}
		pr.log.Info("nothing to change", "action", pr.res.Action)
		return art, nil, nil
	}
	data, err := art.Encode()
	if err != nil {
		return nil, nil, err
	}
	if err := writeArtifact(wt.Dir, art.ID, data); err != nil {
		return nil, nil, err
	}
	return art, append(files, artifact.Path(art.ID)), nil
}

// commit commits the edited files with the artifact's message and trailers.
func (pr *proposal) commit(ctx context.Context, wt *infrarepo.WorkTree, art *artifact.Artifact, files []string) (*object.Commit, error) {
	_, commitSpan := pr.p.span(ctx, "commit")
	defer commitSpan.End()
	commit, err := wt.Commit(files, art.CommitMessage(), pr.p.AuthorName, pr.p.AuthorEmail, pr.p.Now())
	if err != nil {
		return nil, err
	}
	pr.res.Commit = commit.Hash.String()
	return commit, nil
}

// push pushes the commit to the proposal's branch, replacing exactly pr.replace:
// pushed is false when another writer won the race, or when, counted again after
// another replica's reservation, a limit holds the proposal back (pr.res says so).
// A counted proposal's branch goes with its reservation, all or nothing.
func (pr *proposal) push(ctx context.Context, wt *infrarepo.WorkTree, commit *object.Commit) (bool, error) {
	pushCtx, pushSpan := pr.p.span(ctx, "push")
	defer pushSpan.End()
	for attempt := 0; ; attempt++ {
		err := pr.pushOnce(pushCtx, wt, commit)
		switch {
		case errors.Is(err, infrarepo.ErrBranchExists):
			pr.res.Action, pr.res.Reason, pr.res.Commit = decision.Updated, "another writer opened this proposal first", ""
			pr.log.Info("proposal raced", "action", pr.res.Action)
			return false, nil
		case !errors.Is(err, infrarepo.ErrReservationsMoved):
			return err == nil, err
		case attempt == maxReserveAttempts:
			return false, fmt.Errorf("reserve %s: still racing other replicas after %d attempts: %w", pr.res.Branch, attempt+1, err)
		}
		// Another replica reserved first (the ledger is fetched again): count again.
		pr.log.Debug("reservation raced; counting again", "attempt", attempt+1)
		if done, err := pr.gate(ctx); done || err != nil {
			pr.res.Commit = ""
			return false, err
		}
	}
}

// maxReserveAttempts bounds the recounts of one proposal: each lost race is another
// replica's proposal made, so a bound is reached long before.
const maxReserveAttempts = 50

// pushOnce pushes the branch, with its reservation when the proposal was counted.
func (pr *proposal) pushOnce(ctx context.Context, wt *infrarepo.WorkTree, commit *object.Commit) error {
	if !pr.reserve.counted {
		return wt.PushOver(ctx, commit, pr.res.Branch, pr.replace)
	}
	move, err := pr.reservation()
	if err != nil {
		return err
	}
	return wt.PushReserving(ctx, commit, pr.res.Branch, pr.replace, move)
}

// reservation is the ledger's move that reserves this proposal's slot, from the
// ledger the gate counted.
func (pr *proposal) reservation() (infrarepo.Reserve, error) {
	now := pr.p.Now()
	next, err := pr.reserve.ledger.With(bounds.Reservation{ID: pr.res.ID, Runbook: pr.rb.Metadata.Name, Policy: pr.pol.Metadata.Name, At: now}, now)
	if err != nil {
		return infrarepo.Reserve{}, err
	}
	by := object.Signature{Name: pr.p.AuthorName, Email: pr.p.AuthorEmail, When: now}
	return infrarepo.Reserve{From: pr.reserve.head, Next: next, By: by}, nil
}

// openOnForge opens the pushed branch's proposal for review.
func (pr *proposal) openOnForge(ctx context.Context, art *artifact.Artifact, commit *object.Commit, stat []infrarepo.FileStat, edited int) (Result, error) {
	req := pr.p.request(art, pr.res.Branch, commit.Hash.String(), pr.pol, pr.a)
	req.DiffStat = diffStat(stat)
	forgeCtx, forgeSpan := pr.p.span(ctx, "forge.open")
	prop, err := pr.p.Forge.Open(forgeCtx, req)
	forgeSpan.End()
	if err != nil {
		// The branch is pushed: the next occurrence (or the queue's retry) opens
		// the proposal from it.
		return pr.res, fmt.Errorf("open proposal for %s: %w", pr.res.Branch, err)
	}
	pr.res.Action, pr.res.URL = decision.Opened, prop.URL
	if !art.Merge.Allowed {
		pr.res.Reason = "not mergeable yet: " + art.Merge.Reason
	}
	pr.log.Info("proposal opened", "mergeable", art.Merge.Allowed, "action", pr.res.Action, "branch", pr.res.Branch,
		"commit", pr.res.Commit, "files", edited, "url", prop.URL)
	return pr.res, nil
}
