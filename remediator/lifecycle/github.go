package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// PullRequests is what a pass on GitHub needs of the forge.
type PullRequests interface {
	Proposals(ctx context.Context, since time.Time) ([]forge.Proposal, error)
	Reviews(ctx context.Context, number int) ([]forge.Review, error)
	Merge(ctx context.Context, number int, sha, title, message string) (string, error)
}

// RunGitHub makes one pass over the open pull requests: reviews counted for the head
// commit (invariant 2), then the same gates as the local forge, the approvals recorded
// as a note on the head (so the audit can back each Approved-by), and the merge through
// the API at exactly that head (GitHub refuses a moved head: invariant 3).
func (r *Reconciler) RunGitHub(ctx context.Context, prs PullRequests, isHeadMoved func(error) bool) ([]Outcome, error) {
	if err := r.Infra.Fetch(ctx); err != nil {
		return nil, err
	}
	if o, ok := prs.(Opener); ok && r.Opener == nil {
		r.Opener = o
	}
	if f, ok := prs.(Facts); ok && r.Facts == nil {
		r.Facts = f
	}
	if rep, ok := prs.(Reporter); ok && r.Reporter == nil {
		r.Reporter = rep
	}
	if c, ok := prs.(Closer); ok && r.Closer == nil {
		r.Closer = c
	}
	props, err := prs.Proposals(ctx, r.Now())
	if err != nil {
		return nil, err
	}
	var out []Outcome
	var errs []error
	for _, p := range props {
		if p.State != forge.Open {
			continue
		}
		o, err := r.oneGitHub(ctx, prs, p, isHeadMoved)
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

func (r *Reconciler) oneGitHub(ctx context.Context, prs PullRequests, p forge.Proposal, isHeadMoved func(error) bool) (Outcome, error) {
	o := Outcome{ID: p.ID, Branch: p.Branch, Head: p.Head, Action: Waiting}
	head := plumbing.NewHash(p.Head)
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
	if o, done, err := r.closeIfResolved(ctx, art, p, o); done || err != nil {
		return o, err
	}
	reviews, err := prs.Reviews(ctx, p.Number)
	if err != nil {
		return o, err
	}
	count := CountReviews(reviews, p.Head, p.Author)
	o.Approvers = count.Approvers
	if len(count.Blockers) > 0 {
		o.Reason = "changes requested by " + strings.Join(count.Blockers, ", ")
		return o, nil
	}
	approvals := make([]Approval, 0, len(count.Approvers))
	for _, login := range count.Approvers {
		approvals = append(approvals, Approval{Name: login, At: r.Now()})
	}
	reason, err := r.gate(ctx, art, p.Head, approvals, count.Ignored)
	if err != nil || reason != "" {
		o.Reason = reason
		return o, err
	}
	// Recorded before the merge: a crash between the two leaves a harmless note on an
	// unmerged head, never a merge whose approvals Git cannot show.
	if len(approvals) > 0 {
		if _, err := r.Infra.UpdateNote(ctx, ApprovalsRef, head, "approvals of "+p.ID, r.AuthorName, r.AuthorEmail, r.Now(),
			func(old []byte) ([]byte, error) {
				note := old
				for _, a := range approvals {
					note = AddApproval(note, a)
				}
				return note, nil
			}); err != nil {
			return o, err
		}
	}
	c, err := r.Infra.Commit(head)
	if err != nil {
		return o, err
	}
	title, body, _ := strings.Cut(MergeMessage(art, c.Message, approvals), "\n\n")
	sha, err := prs.Merge(ctx, p.Number, p.Head, title, body)
	if err != nil && isHeadMoved(err) {
		o.Reason = "the head moved between the check and the merge; the next pass reviews the new head"
		return o, nil
	}
	if errors.Is(err, forge.ErrNotMergeable) {
		o.Reason = err.Error()
		return o, nil
	}
	if err != nil {
		return o, err
	}
	o.Action, o.Merge = Merged, sha
	return o, nil
}
