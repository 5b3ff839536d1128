package github

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// timelineEvent is one event of GET /repos/{owner}/{repo}/issues/{n}/timeline, the
// fields the gates read. go-github v60's Timeline has no dismissed_review, so the
// forge reads the answer itself.
type timelineEvent struct {
	Event string `json:"event"`
	Actor *struct {
		Login string `json:"login"`
	} `json:"actor"`
	CreatedAt       time.Time `json:"created_at"`
	DismissedReview *struct {
		State    string `json:"state"`
		ReviewID int64  `json:"review_id"`
	} `json:"dismissed_review"`
}

// timelineKinds are the events the gates read; the rest of the timeline is skipped.
var timelineKinds = map[string]bool{
	forge.EventClosed: true, forge.EventReopened: true, forge.EventReviewDismissed: true, forge.EventForcePushed: true,
}

// Timeline lists who closed, reopened, dismissed a review of or force-pushed to the
// pull request, oldest first.
func (f *Forge) Timeline(ctx context.Context, number int) ([]forge.Event, error) {
	var out []forge.Event
	page := 1
	for {
		u := fmt.Sprintf("repos/%s/%s/issues/%d/timeline?per_page=100&page=%d", url.PathEscape(f.owner), url.PathEscape(f.repo), number, page)
		req, err := f.client.NewRequest("GET", u, nil)
		if err != nil {
			return nil, fmt.Errorf("github: timeline of #%d: %w", number, err)
		}
		var events []timelineEvent
		resp, err := f.client.Do(ctx, req, &events)
		if err != nil {
			return nil, fmt.Errorf("github: timeline of #%d: %w", number, err)
		}
		for _, e := range events {
			if !timelineKinds[e.Event] {
				continue
			}
			ev := forge.Event{Kind: e.Event, At: e.CreatedAt}
			if e.Actor != nil {
				ev.Actor = e.Actor.Login
			}
			if d := e.DismissedReview; d != nil {
				ev.ReviewID, ev.ReviewState = d.ReviewID, strings.ToUpper(d.State)
			}
			out = append(out, ev)
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		page = resp.NextPage
	}
}

// rejection is the last close of the pull request by anyone but self: who and when.
func rejection(events []forge.Event, self string) (string, time.Time) {
	var by string
	var at time.Time
	for _, e := range events {
		if e.Kind == forge.EventClosed && !strings.EqualFold(e.Actor, self) {
			by, at = e.Actor, e.At
			if by == "" {
				by = "a deleted account" // GitHub's ghost: still not the remediator
			}
		}
	}
	return by, at
}

// withRejection fills in who other than the remediator closed the pull request.
func (f *Forge) withRejection(ctx context.Context, p forge.Proposal) (forge.Proposal, error) {
	events, err := f.Timeline(ctx, p.Number)
	if err != nil {
		return p, err
	}
	p.RejectedBy, p.RejectedAt = rejection(events, p.Author)
	return p, nil
}

// PullRequest reads the pull request again, as it is now: the last look before a
// merge (its base, state and head).
func (f *Forge) PullRequest(ctx context.Context, number int) (forge.Proposal, error) {
	pr, _, err := f.client.PullRequests.Get(ctx, f.owner, f.repo, number)
	if err != nil {
		return forge.Proposal{}, fmt.Errorf("github: read pull request #%d: %w", number, err)
	}
	p, ok := proposal(pr)
	if !ok {
		return forge.Proposal{}, fmt.Errorf("github: pull request #%d no longer carries the remediator's marker", number)
	}
	return p, nil
}
