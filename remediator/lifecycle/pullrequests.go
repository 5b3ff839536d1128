package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
)

// RunPullRequests makes one pass over the open pull requests of a forge with its own
// review objects: reviews counted for the head commit ("an approval is an identity"),
// then the same gates as the local forge, the approvals recorded as a note on the head
// (so the audit can back each Approved-by), and the merge through the forge's API at
// exactly that head (the forge refuses a moved head: "the merge is a compare-and-swap").
// The forge answers for checks, teams, rollbacks, closes and outcome reports unless
// the Reconciler was given others.
func (r *Reconciler) RunPullRequests(ctx context.Context, prs forge.PullRequests) ([]Result, error) {
	if err := r.Infra.Fetch(ctx); err != nil {
		return nil, err
	}
	if err := r.sealReverts(ctx); err != nil {
		return nil, err
	}
	if r.Opener == nil {
		r.Opener = prs
	}
	if r.Facts == nil {
		r.Facts = prs
	}
	if r.Reporter == nil {
		r.Reporter = prs
	}
	if r.Closer == nil {
		r.Closer = prs
	}
	props, err := openProposals(ctx, prs)
	if err != nil {
		return nil, err
	}
	var out []Result
	var errs []error
	pass := newPRPass(prs)
	for _, p := range props {
		if p.State != forge.Open || !r.Only.wants(p) {
			continue
		}
		o, err := r.onePull(ctx, pass, p)
		if err != nil {
			// One pull request the pass cannot finish holds up none of the others.
			r.Logger.Error("reconcile of a pull request failed", "pull_request", p.Number, "remediation_id", p.ID, "err", err)
			errs = append(errs, fmt.Errorf("#%d: %w", p.Number, err))
			continue
		}
		r.log(o, "pull_request", p.Number)
		out = append(out, o)
	}
	return r.verifyAfter(ctx, out, errs)
}

func (r *Reconciler) onePull(ctx context.Context, pass *prPass, p forge.Proposal) (Result, error) {
	prs := pass.prs
	o := Result{ID: p.ID, Branch: p.Branch, Head: p.Head, Action: decision.Waiting, URL: p.URL}
	if o.Reason = r.wrongBase(p); o.Reason != "" {
		return o, nil
	}
	head := plumbing.NewHash(p.Head)
	c, err := r.Infra.Commit(head)
	if err != nil {
		o.Reason = "the head " + p.Head + " is not in the repository yet"
		return o, nil //nolint:nilerr // fetched on the next pass
	}
	if reason := records.Provenance(c, p.ID, r.Infra.Signer.Public()); reason != "" {
		o.Reason = reason
		return o, r.reportChangedByPerson(ctx, prs, p, reason)
	}
	data, err := r.Infra.ReadFile(head, artifact.Path(p.ID))
	if err != nil {
		o.Reason = "the head carries no artifact " + artifact.Path(p.ID)
		return o, nil //nolint:nilerr // a branch someone rewrote: it waits and says why
	}
	art, err := artifact.Decode(data)
	if err != nil {
		o.Reason = err.Error()
		return o, nil //nolint:nilerr // same: reported, never merged
	}
	ctx, span := r.span(ctx, art, "reconcile")
	defer span.End()
	o.TraceID = tracing.TraceID(ctx)
	t, refusal := records.TermsOf(r.Catalog, r.router(), p.ID, art)
	if refusal != nil && refusal.Superseded {
		return r.supersede(ctx, art, p, o, refusal.Reason)
	}
	if refusal != nil {
		o.Reason = refusal.Reason
		return o, nil
	}
	if o, done, err := r.closeIfResolved(ctx, art, p, o); done || err != nil {
		return o, err
	}
	count, reason, err := r.countReviews(ctx, pass, p, t)
	if err != nil || reason != "" {
		o.Reason = reason
		return o, err
	}
	o.Approvers = count.Approvers
	approvals, err := r.recordReviews(p, count.Approvers)
	if err != nil {
		return o, err
	}
	gateCtx, gateSpan := r.span(ctx, nil, "gates")
	reason, err = r.gate(gateCtx, gateInput{art: art, terms: t, head: head, counted: approvals, ignored: count.Ignored, outcome: &o})
	gateSpan.End()
	if err != nil || reason != "" {
		o.Reason = r.explainChecks(reason)
		return o, err
	}
	if r.DryRun {
		o.Action, o.Reason = decision.WouldMerge, "passes every gate"
		return o, nil
	}
	return r.mergePull(ctx, prs, prMerge{o: o, p: p, art: art, message: c.Message, head: head, approvals: approvals})
}

// prMerge is a pull request that passed every gate, on its way to the merge.
type prMerge struct {
	o         Result
	p         forge.Proposal
	art       *artifact.Artifact
	message   string // the proposal commit's
	head      plumbing.Hash
	approvals []records.Approval
}

// mergePull records the approvals and the intent, looks at the pull request a
// last time and merges it at exactly the reviewed head.
func (r *Reconciler) mergePull(ctx context.Context, prs forge.PullRequests, m prMerge) (Result, error) {
	o, p, art, head, approvals := m.o, m.p, m.art, m.head, m.approvals
	// Recorded before the merge: a crash between the two leaves a harmless note on an
	// unmerged head, never a merge whose approvals Git cannot show.
	if len(approvals) > 0 {
		if _, err := r.Infra.UpdateNote(ctx, records.ApprovalsRef, head, "approvals of "+p.ID, r.by(r.Now()),
			func(old []byte) ([]byte, error) {
				note := old
				for _, a := range approvals {
					note = records.AddApproval(note, a)
				}
				return note, nil
			}); err != nil {
			return o, err
		}
	}
	// GitHub makes the merge commit, so the remediator's signature cannot be on it:
	// its sealed intent on the head, binding the base and the tree the merge makes,
	// is what shows the merge was its own.
	baseHead, tree, err := r.Infra.MergeTreeOf(r.Base, head)
	if err != nil {
		o.Reason = "cannot merge into " + r.Base + ": " + err.Error()
		return o, nil //nolint:nilerr // a conflict with the base: it waits and says why
	}
	intent, err := records.SealMergeIntent(r.Infra.Signer, p.ID, baseHead, head, tree)
	if err != nil {
		return o, err
	}
	if _, err := r.Infra.UpdateNote(ctx, records.MergesRef, head, "merge of "+p.ID, r.by(r.Now()),
		func([]byte) ([]byte, error) { return intent, nil }); err != nil {
		return o, err
	}
	// Right before the merge call: the pull request as it is now (GitHub's merge
	// names the head, not the base, so the base is read again here).
	if o.Reason, err = r.lastLook(ctx, prs, p); err != nil || o.Reason != "" {
		return o, err
	}
	title, body, _ := strings.Cut(MergeMessage(art, m.message, approvals), "\n\n")
	mergeCtx, mergeSpan := r.span(ctx, nil, "merge")
	sha, err := prs.Merge(mergeCtx, p.Number, p.Head, title, body)
	mergeSpan.End()
	if errors.Is(err, forge.ErrHeadMoved) {
		o.Reason = "the head moved between the check and the merge; the next pass reviews the new head"
		return o, nil
	}
	if errors.Is(err, forge.ErrRetryLater) {
		o.Reason = err.Error()
		return o, nil
	}
	if errors.Is(err, forge.ErrNotMergeable) {
		o.Reason = err.Error()
		return o, nil
	}
	if err != nil {
		return o, err
	}
	o.Action, o.Merge = decision.Merged, sha
	r.recordMerged(ctx, p.ID, sha)
	return o, nil
}

// recordMerged seals the record of the merge commit the remediator's own merge call
// made, with its actual parents and tree (the base may have moved since the intent).
// A failure leaves the intent, which binds the merge unless the base moved: logged,
// and the merge stands.
func (r *Reconciler) recordMerged(ctx context.Context, id, sha string) {
	err := func() error {
		if err := r.Infra.Fetch(ctx); err != nil {
			return err
		}
		mc, err := r.Infra.Commit(plumbing.NewHash(sha))
		if err != nil {
			return err
		}
		rec, err := records.SealMerged(r.Infra.Signer, id, mc)
		if err != nil {
			return err
		}
		_, err = r.Infra.UpdateNote(ctx, records.MergesRef, mc.Hash, "merged "+id, r.by(r.Now()),
			func([]byte) ([]byte, error) { return rec, nil })
		return err
	}()
	if err != nil {
		r.Logger.Error("record of the merge not written", "remediation_id", id, "merge", sha, "err", err)
	}
}

// recordReviews turns the counted GitHub reviews into approvals the remediator signs,
// so the record in Git is its word, which nobody else can write.
func (r *Reconciler) recordReviews(p forge.Proposal, logins []string) ([]records.Approval, error) {
	out := make([]records.Approval, 0, len(logins))
	for _, login := range logins {
		if r.Infra.Signer == nil {
			out = append(out, records.Approval{Principal: login, Via: records.ViaForge, At: r.Now()})
			continue
		}
		a, err := records.Sign(r.Infra.Signer, p.Head, login, records.ViaForge, r.Now())
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// reportChangedByPerson says once on the pull request that the remediator will not
// merge it.
func (r *Reconciler) reportChangedByPerson(ctx context.Context, prs forge.PullRequests, p forge.Proposal, reason string) error {
	if r.DryRun {
		return nil
	}
	r.Logger.Warn("proposal changed by a person: not merged by the remediator", "remediation_id", p.ID, "head", p.Head, "reason", reason)
	return prs.ReportChangedByPerson(ctx, p, reason)
}

// countReviews counts the pull request's reviews for its head: never from its
// author, a pusher (by commit or by force-push), a check reporter, a bot, or an
// account without write access now; a standing objection blocks. A pull request
// someone else closed is a rejection. It returns the count, or why it waits.
func (r *Reconciler) countReviews(ctx context.Context, pass *prPass, p forge.Proposal, t records.Terms) (records.ReviewCount, string, error) {
	prs := pass.prs
	events, err := prs.Timeline(ctx, p.Number)
	if err != nil {
		return records.ReviewCount{}, "", err
	}
	if why := rejected(events, p.Author); why != "" {
		return records.ReviewCount{}, why, nil
	}
	reviews, err := prs.Reviews(ctx, p.Number)
	if err != nil {
		return records.ReviewCount{}, "", err
	}
	pushers, err := prs.Pushers(ctx, p.Number)
	if err != nil {
		return records.ReviewCount{}, "", err
	}
	excluded := append(append([]string{p.Author}, pushers...), forcePushers(events)...)
	count := records.CountReviews(reviews, p.Head, excluded)
	objections, err := r.standingObjections(ctx, reviews, events, t.Policy.Spec.RequiredReviewers)
	if err != nil {
		return count, "", err
	}
	if blockers := append(slices.Clone(count.Blockers), objections...); len(blockers) > 0 {
		return count, "changes requested by " + strings.Join(blockers, ", "), nil
	}
	count = withoutReporters(count, r.CheckReporters)
	count, err = withoutNonWriters(ctx, pass, count)
	return count, "", err
}

// explainChecks adds to a wait on required checks why none counts on GitHub when
// forge.check_reporters is unset: checks fail closed.
func (r *Reconciler) explainChecks(reason string) string {
	if len(r.CheckReporters) > 0 || !strings.HasPrefix(reason, "required checks not green") {
		return reason
	}
	return reason + "; forge.check_reporters is not set, so no commit status or check run counts on GitHub " +
		`(name CI's login or App, or ["*"] to count everyone with write access)`
}
