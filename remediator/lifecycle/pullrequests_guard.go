package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// The pull request is the remediator's, whole (remediator/TRUST.md): on GitHub a
// person with some access can retarget it, close and reopen it, dismiss an objection
// or approve with too little access. What a pass reads of the pull request beyond
// its reviews, and why it refuses.

// prPass is what one pass over the pull requests reads once: each person's access
// ("read once per person per pass").
type prPass struct {
	prs    forge.PullRequests
	access map[string]forge.Access
}

func newPRPass(prs forge.PullRequests) *prPass {
	return &prPass{prs: prs, access: map[string]forge.Access{}}
}

// accessOf is login's access to the repository, asked once per pass.
func (g *prPass) accessOf(ctx context.Context, login string) (forge.Access, error) {
	key := strings.ToLower(login)
	if a, ok := g.access[key]; ok {
		return a, nil
	}
	a, err := g.prs.Access(ctx, login)
	if err != nil {
		return forge.Access{}, err
	}
	g.access[key] = a
	return a, nil
}

// wrongBase is why a pull request merging into another branch than the configured
// base never merges, or "".
func (r *Reconciler) wrongBase(p forge.Proposal) string {
	if p.Base == r.Base {
		return ""
	}
	return fmt.Sprintf("the pull request merges into %s, not the configured base %s: someone retargeted it; the remediator never merges it elsewhere", p.Base, r.Base)
}

// rejected is why a pull request someone other than the remediator closed never
// merges, even reopened, or "".
func rejected(events []forge.Event, self string) string {
	by, at := "", time.Time{}
	for _, e := range events {
		if e.Kind == forge.EventClosed && !strings.EqualFold(e.Actor, self) {
			by, at = e.Actor, e.At
			if by == "" {
				by = "a deleted account"
			}
		}
	}
	if by == "" {
		return ""
	}
	return fmt.Sprintf("closed by %s at %s: a rejection; the remediator never merges this pull request, reopened or not (the runbook's cooldown runs from the close)",
		by, at.UTC().Format(time.RFC3339))
}

// forcePushers are the accounts that force-pushed the head branch: a re-signed or
// re-wrapped commit has a new hash and the same tree, and its pusher may not approve
// it (the last-push rule), whoever the commit names as author and committer.
func forcePushers(events []forge.Event) []string {
	var out []string
	for _, e := range events {
		if e.Kind == forge.EventForcePushed && e.Actor != "" {
			out = append(out, e.Actor)
		}
	}
	return out
}

// withoutNonWriters moves the approvers without write access to the repository now
// to ignored, each with its role.
func withoutNonWriters(ctx context.Context, pass *prPass, count records.ReviewCount) (records.ReviewCount, error) {
	var kept []string
	for _, login := range count.Approvers {
		a, err := pass.accessOf(ctx, login)
		if err != nil {
			return count, err
		}
		if !a.Write {
			count.Ignored = append(count.Ignored, fmt.Sprintf("%s: no write access to the repository (role %s)", login, a.Role))
			continue
		}
		kept = append(kept, login)
	}
	count.Approvers = kept
	return count, nil
}

// withoutReporters moves the approvers who report checks to ignored: a reporter is
// not a reviewer (forge.check_reporters; "*" names no one).
func withoutReporters(count records.ReviewCount, reporters []string) records.ReviewCount {
	var kept []string
	for _, login := range count.Approvers {
		if records.ContainsFold(reporters, login) {
			count.Ignored = append(count.Ignored, login+": a check reporter (forge.check_reporters) never approves")
			continue
		}
		kept = append(kept, login)
	}
	count.Approvers = kept
	return count
}

// standingObjections are the people whose "changes requested" GitHub shows
// dismissed but who still object: a dismissal counts only by the reviewer
// themselves or by someone the policy requires (a required reviewer, or a member of
// a required team). A dismissed review the timeline does not explain stands too.
func (r *Reconciler) standingObjections(ctx context.Context, reviews []forge.Review, events []forge.Event, required []string) ([]string, error) {
	dismissedBy := map[int64]forge.Event{}
	for _, e := range events {
		if e.Kind == forge.EventReviewDismissed {
			dismissedBy[e.ReviewID] = e
		}
	}
	var out []string
	for _, rv := range records.LatestDecisions(reviews) {
		if !strings.EqualFold(rv.State, "DISMISSED") {
			continue
		}
		e, ok := dismissedBy[rv.ID]
		switch {
		case !ok:
			out = append(out, rv.Login+" (a dismissed review the timeline does not explain)")
		case !strings.EqualFold(e.ReviewState, "CHANGES_REQUESTED"), strings.EqualFold(e.Actor, rv.Login):
			// A dismissed approval; or the reviewer withdrew their own objection.
		default:
			ok, err := r.mayDismiss(ctx, e.Actor, required)
			if err != nil {
				return nil, err
			}
			if !ok {
				out = append(out, fmt.Sprintf("%s (dismissed by %s, who is neither the reviewer nor a required reviewer)", rv.Login, e.Actor))
			}
		}
	}
	return out, nil
}

// mayDismiss says whether login is one the policy requires: a required reviewer by
// exact login, or an active member of a required team.
func (r *Reconciler) mayDismiss(ctx context.Context, login string, required []string) (bool, error) {
	for _, want := range required {
		if !strings.Contains(want, "/") {
			if strings.EqualFold(want, login) {
				return true, nil
			}
			continue
		}
		in, err := r.facts().TeamMember(ctx, want, login)
		if err != nil {
			return false, err
		}
		if in {
			return true, nil
		}
	}
	return false, nil
}

// lastLook reads the pull request and its timeline again right before the merge
// call: still open, still into the base, still at the reviewed head, never closed
// by anyone else. It returns why not, or "".
func (r *Reconciler) lastLook(ctx context.Context, prs forge.PullRequests, p forge.Proposal) (string, error) {
	now, err := prs.PullRequest(ctx, p.Number)
	if err != nil {
		return "", err
	}
	switch {
	case now.State != forge.Open:
		return "the pull request was closed or merged during the pass", nil
	case now.Head != p.Head:
		return "the head moved during the pass; the next pass reviews the new head", nil
	}
	if why := r.wrongBase(now); why != "" {
		return why, nil
	}
	events, err := prs.Timeline(ctx, p.Number)
	if err != nil {
		return "", err
	}
	return rejected(events, p.Author), nil
}
