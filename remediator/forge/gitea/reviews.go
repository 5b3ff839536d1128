package gitea

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Reviews lists every review of a pull request, oldest first, in the lifecycle's
// words. Gitea's own flags decide before the lifecycle's rules do:
//   - a dismissed review is DISMISSED (the timeline says who dismissed it);
//   - an approval Gitea marks stale (the head moved since) or not official (the
//     reviewer may not approve into the base) keeps its state but names no commit
//     ("stale", "unofficial"), so it never counts for any head;
//   - REQUEST_CHANGES is CHANGES_REQUESTED and blocks, stale or not;
//   - COMMENT, PENDING (a draft) and REQUEST_REVIEW decide nothing;
//   - a state this forge does not know blocks: it fails closed.
func (f *Forge) Reviews(ctx context.Context, number int) ([]forge.Review, error) {
	c := f.client(ctx)
	var out []forge.Review
	for page := 1; ; page++ {
		reviews, _, err := c.ListPullReviews(f.owner, f.repo, int64(number), sdk.ListPullReviewsOptions{ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}})
		if err != nil {
			return nil, fmt.Errorf("gitea: reviews of #%d: %w", number, err)
		}
		for _, r := range reviews {
			if rv, ok := review(r); ok {
				out = append(out, rv)
			}
		}
		if len(reviews) < pageSize {
			return out, nil
		}
	}
}

// review maps one Gitea review; ok is false for a team's review request, which is
// no person's review.
func review(r *sdk.PullReview) (forge.Review, bool) {
	if r.Reviewer == nil {
		return forge.Review{}, false
	}
	rv := forge.Review{ID: r.ID, Login: r.Reviewer.UserName, Bot: isBot(r.Reviewer.UserName), CommitID: r.CommitID, Submitted: r.Submitted}
	switch {
	case r.Dismissed:
		rv.State = "DISMISSED"
	case r.State == sdk.ReviewStateApproved:
		rv.State = "APPROVED"
		if r.Stale {
			rv.CommitID = "stale"
		}
		if !r.Official {
			rv.CommitID = "unofficial"
		}
	case r.State == sdk.ReviewStateRequestChanges:
		rv.State = "CHANGES_REQUESTED"
	case r.State == sdk.ReviewStateComment:
		rv.State = "COMMENTED"
	case r.State == sdk.ReviewStatePending, r.State == sdk.ReviewStateRequestReview:
		rv.State = string(r.State)
	default:
		rv.State = "CHANGES_REQUESTED" // an unknown state: fail closed
	}
	return rv, true
}

// gitState is the state a dismissed Gitea review had, in the lifecycle's words.
func gitState(s sdk.ReviewStateType) string {
	switch s {
	case sdk.ReviewStateApproved:
		return "APPROVED"
	case sdk.ReviewStateRequestChanges:
		return "CHANGES_REQUESTED"
	}
	return string(s)
}

// isBot is Gitea's own Actions account: its approval counts for nothing.
func isBot(login string) bool {
	return strings.EqualFold(login, "gitea-actions") || strings.HasSuffix(strings.ToLower(login), "[bot]")
}

// timelineComment is one entry of GET /repos/{owner}/{repo}/issues/{n}/timeline,
// the fields the gates read (the library's type has no review_id).
type timelineComment struct {
	Type   string `json:"type"`
	Poster *struct {
		Login string `json:"login"`
	} `json:"user"`
	Body     string    `json:"body"`
	Created  time.Time `json:"created_at"`
	ReviewID int64     `json:"review_id"`
}

// pushBody is the body of a pull_push entry.
type pushBody struct {
	IsForcePush bool     `json:"is_force_push"`
	CommitIDs   []string `json:"commit_ids"`
}

// timeline reads the whole timeline of a pull request, oldest first.
func (f *Forge) timeline(ctx context.Context, number int) ([]timelineComment, error) {
	var out []timelineComment
	for page := 1; ; page++ {
		var part []timelineComment
		q := url.Values{"page": {fmt.Sprint(page)}, "limit": {fmt.Sprint(pageSize)}}
		if err := f.getJSON(ctx, fmt.Sprintf("/repos/%s/%s/issues/%d/timeline", url.PathEscape(f.owner), url.PathEscape(f.repo), number), q, &part); err != nil {
			return nil, fmt.Errorf("gitea: timeline of #%d: %w", number, err)
		}
		out = append(out, part...)
		if len(part) < pageSize {
			return out, nil
		}
	}
}

func (t timelineComment) actor() string {
	if t.Poster == nil {
		return ""
	}
	return t.Poster.Login
}

// Timeline lists who closed, reopened, dismissed a review of or force-pushed to the
// pull request, oldest first, in the lifecycle's words (GitHub's event names).
func (f *Forge) Timeline(ctx context.Context, number int) ([]forge.Event, error) {
	entries, err := f.timeline(ctx, number)
	if err != nil {
		return nil, err
	}
	var reviews map[int64]sdk.ReviewStateType
	var out []forge.Event
	for _, e := range entries {
		ev := forge.Event{Actor: e.actor(), At: e.Created}
		switch e.Type {
		case "close":
			ev.Kind = forge.EventClosed
		case "reopen":
			ev.Kind = forge.EventReopened
		case "pull_push":
			var b pushBody
			if json.Unmarshal([]byte(e.Body), &b) != nil || !b.IsForcePush {
				continue
			}
			ev.Kind = forge.EventForcePushed
		case "dismiss_review":
			if reviews == nil {
				if reviews, err = f.reviewStates(ctx, number); err != nil {
					return nil, err
				}
			}
			ev.Kind, ev.ReviewID, ev.ReviewState = forge.EventReviewDismissed, e.ReviewID, gitState(reviews[e.ReviewID])
		default:
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}

// reviewStates is each review's own state (before any dismissal), by id.
func (f *Forge) reviewStates(ctx context.Context, number int) (map[int64]sdk.ReviewStateType, error) {
	c := f.client(ctx)
	out := map[int64]sdk.ReviewStateType{}
	for page := 1; ; page++ {
		reviews, _, err := c.ListPullReviews(f.owner, f.repo, int64(number), sdk.ListPullReviewsOptions{ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}})
		if err != nil {
			return nil, fmt.Errorf("gitea: reviews of #%d: %w", number, err)
		}
		for _, r := range reviews {
			out[r.ID] = r.State
		}
		if len(reviews) < pageSize {
			return out, nil
		}
	}
}

// Pushers are the accounts that pushed to the pull request's branch (Gitea records
// each push in the timeline, by the account that pushed) and those Gitea matches as
// author or committer of any of its commits: none of them may approve it.
func (f *Forge) Pushers(ctx context.Context, number int) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(login string) {
		if k := strings.ToLower(login); login != "" && !seen[k] {
			seen[k] = true
			out = append(out, login)
		}
	}
	entries, err := f.timeline(ctx, number)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Type == "pull_push" {
			add(e.actor())
		}
	}
	c := f.client(ctx)
	for page := 1; ; page++ {
		commits, _, err := c.ListPullRequestCommits(f.owner, f.repo, int64(number), sdk.ListPullRequestCommitsOptions{ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}})
		if err != nil {
			return nil, fmt.Errorf("gitea: commits of #%d: %w", number, err)
		}
		for _, cm := range commits {
			for _, u := range []*sdk.User{cm.Author, cm.Committer} {
				if u != nil {
					add(u.UserName)
				}
			}
		}
		if len(commits) < pageSize {
			return out, nil
		}
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
				by = "a deleted account"
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
