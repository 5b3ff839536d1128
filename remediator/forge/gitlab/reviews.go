package gitlab

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Commit ids an approval names when it counts for no head: GitLab's approvals
// name no commit, so one that GitLab dated before the newest push is bound to none.
const (
	beforeLastPush = "approved-before-the-last-push"
	noVersion      = "no-version-to-bind-to"
)

// Reviews lists the approvals of a merge request, oldest first, in the lifecycle's
// words, and after them the reviewers' standing requests for changes. GitLab's approvals say who and when, never on which commit, so each is
// bound to the head here: it names the head only when GitLab dated it after the
// merge request's newest version, GitLab's record of the last push, and that
// version is the head. An approval from before a push, whatever the project's
// reset setting says, or any approval while the versions do not reach the head,
// names no commit and counts for nothing.
func (f *Forge) Reviews(ctx context.Context, number int) ([]forge.Review, error) {
	if v, ok := recall(f.known, number, func(k *keptMR) *kept[[]forge.Review] { return k.reviews }); ok {
		return slices.Clone(v), nil
	}
	m, err := f.mergeRequest(ctx, number)
	if err != nil {
		return nil, err
	}
	newest, err := f.newestVersion(ctx, number)
	if err != nil {
		return nil, err
	}
	a, _, err := f.api.MergeRequests.GetMergeRequestApprovals(f.project, int64(number), gl.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("gitlab: approvals of !%d: %w", number, err)
	}
	var out []forge.Review
	for _, by := range a.ApprovedBy {
		if by == nil || by.User == nil {
			continue
		}
		rv := forge.Review{ID: by.User.ID, Login: by.User.Username, Bot: isBot(by.User.Username), State: "APPROVED"}
		if by.ApprovedAt != nil {
			rv.Submitted = *by.ApprovedAt
		}
		rv.CommitID = bind(rv.Submitted, newest, m.SHA)
		out = append(out, rv)
	}
	objections, err := f.objections(ctx, number, m.SHA)
	if err != nil {
		return nil, err
	}
	out = append(out, objections...)
	remember(f.known, number, m.UpdatedAt, slices.Clone(out), func(k *keptMR, v *kept[[]forge.Review]) { k.reviews = v })
	return out, nil
}

// objections are the reviewers whose state is "requested changes", as reviews that
// block: GitLab keeps a reviewer's request for changes until they approve (which
// makes their state approved) or are removed, and a standing objection blocks the
// merge whatever the approvals, as on every forge. Each is dated now, so that it is
// the reviewer's latest decision, later than any approval of theirs.
func (f *Forge) objections(ctx context.Context, number int, head string) ([]forge.Review, error) {
	rs, _, err := f.api.MergeRequests.GetMergeRequestReviewers(f.project, int64(number), gl.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("gitlab: reviewers of !%d: %w", number, err)
	}
	var out []forge.Review
	for _, r := range rs {
		if r == nil || r.User == nil || r.State != "requested_changes" {
			continue
		}
		out = append(out, forge.Review{ID: r.User.ID, Login: r.User.Username, Bot: isBot(r.User.Username),
			State: "CHANGES_REQUESTED", Submitted: f.now(), CommitID: head})
	}
	return out, nil
}

// bind is the commit an approval given at "at" counts for: the head, when the
// newest version is the head and GitLab dated the approval after it.
func bind(at time.Time, newest *gl.MergeRequestDiffVersion, head string) string {
	switch {
	case newest == nil || newest.CreatedAt == nil || newest.HeadCommitSHA != head || head == "":
		return noVersion
	case at.IsZero() || !at.After(*newest.CreatedAt):
		return beforeLastPush
	}
	return head
}

// newestVersion is the merge request's newest version (GitLab dates each push), or
// nil when it has none.
func (f *Forge) newestVersion(ctx context.Context, number int) (*gl.MergeRequestDiffVersion, error) {
	var newest *gl.MergeRequestDiffVersion
	o := &gl.GetMergeRequestDiffVersionsOptions{ListOptions: gl.ListOptions{PerPage: perPage}}
	for page := int64(1); ; page++ {
		o.Page = page
		vs, resp, err := f.api.MergeRequests.GetMergeRequestDiffVersions(f.project, int64(number), o, gl.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("gitlab: versions of !%d: %w", number, err)
		}
		for _, v := range vs {
			if v != nil && v.CreatedAt != nil && (newest == nil || v.CreatedAt.After(*newest.CreatedAt) || v.CreatedAt.Equal(*newest.CreatedAt) && v.ID > newest.ID) {
				newest = v
			}
		}
		if resp.NextPage == 0 || len(vs) == 0 {
			return newest, nil
		}
	}
}

// botName is a project or group access token's bot user, and GitLab's own.
var botName = regexp.MustCompile(`^(project|group)_\d+_bot(_[0-9a-f]+)?$|^(ghost|support-bot|alert-bot|gitlab-bot)$`)

// isBot is an account whose approval counts for nothing.
func isBot(login string) bool { return botName.MatchString(strings.ToLower(login)) }

// Pushers are the users GitLab's push events show pushing to the merge request's
// source branch (on the day it was opened or later): none of them may approve it.
func (f *Forge) Pushers(ctx context.Context, number int) ([]string, error) {
	if v, ok := recall(f.known, number, func(k *keptMR) *kept[[]string] { return k.pushers }); ok {
		return slices.Clone(v), nil
	}
	m, err := f.mergeRequest(ctx, number)
	if err != nil {
		return nil, err
	}
	out, err := f.pushersOf(ctx, number, m)
	if err == nil {
		remember(f.known, number, m.UpdatedAt, slices.Clone(out), func(k *keptMR, v *kept[[]string]) { k.pushers = v })
	}
	return out, err
}

// pushersOf reads who pushed to the merge request's source branch since GitLab's
// push that created it: GitLab's project push events, newest first, read back to
// that push (its author included). Pushes before it went to a branch of the same
// name that no longer exists; the merge request's commits came with that push or
// after it, whenever the merge request was opened. The events API filters by day
// only, so no date bounds the read: the branch's creation does. Push events that
// never reach it within maxPushPages pages leave the pushers unknown, and nobody
// approves.
func (f *Forge) pushersOf(ctx context.Context, number int, m *gl.MergeRequest) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	o := &gl.ListProjectVisibleEventsOptions{Action: gl.Ptr(gl.PushedEventType), Sort: gl.Ptr("desc"), ListOptions: gl.ListOptions{PerPage: perPage}}
	for page := int64(1); page <= maxPushPages; page++ {
		o.Page = page
		events, resp, err := f.api.Events.ListProjectVisibleEvents(f.project, o, gl.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("gitlab: push events of !%d: %w", number, err)
		}
		for _, e := range events {
			if e == nil || e.PushData.Ref != m.SourceBranch || e.PushData.RefType != "branch" {
				continue
			}
			if k := strings.ToLower(e.AuthorUsername); k != "" && !seen[k] {
				seen[k] = true
				out = append(out, e.AuthorUsername)
			}
			if e.PushData.Action == "created" {
				return out, nil
			}
		}
		if resp.NextPage == 0 || len(events) == 0 {
			return out, nil
		}
	}
	return nil, fmt.Errorf("gitlab: push events of !%d: the push that created %s is not among the last %d: who pushed to it is unknown", number, m.SourceBranch, maxPushPages*perPage)
}

// maxPushPages bounds the push events read back to a branch's creation.
const maxPushPages = 50

// Timeline lists who closed and reopened the merge request, oldest first, in the
// lifecycle's words (GitLab's resource state events).
func (f *Forge) Timeline(ctx context.Context, number int) ([]forge.Event, error) {
	if v, ok := recall(f.known, number, func(k *keptMR) *kept[[]forge.Event] { return k.timeline }); ok {
		return slices.Clone(v), nil
	}
	// Kept under the updated_at known before the read: a close or reopen made
	// during it moves updated_at on, and the next call reads again.
	at := f.known.updatedOf(number)
	out, err := f.stateEvents(ctx, number)
	if err == nil {
		remember(f.known, number, at, slices.Clone(out), func(k *keptMR, v *kept[[]forge.Event]) { k.timeline = v })
	}
	return out, err
}

// stateEvents reads who closed and reopened the merge request.
func (f *Forge) stateEvents(ctx context.Context, number int) ([]forge.Event, error) {
	var out []forge.Event
	o := &gl.ListStateEventsOptions{ListOptions: gl.ListOptions{PerPage: perPage}}
	for page := int64(1); ; page++ {
		o.Page = page
		events, resp, err := f.api.ResourceStateEvents.ListMergeStateEvents(f.project, int64(number), o, gl.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("gitlab: state events of !%d: %w", number, err)
		}
		for _, e := range events {
			ev := forge.Event{}
			switch e.State {
			case gl.ClosedEventType:
				ev.Kind = forge.EventClosed
			case gl.ReopenedEventType:
				ev.Kind = forge.EventReopened
			default:
				continue
			}
			if e.User != nil {
				ev.Actor = e.User.Username
			}
			if e.CreatedAt != nil {
				ev.At = *e.CreatedAt
			}
			out = append(out, ev)
		}
		if resp.NextPage == 0 || len(events) == 0 {
			return out, nil
		}
	}
}

// withRejection fills in who other than the remediator last closed the merge request.
func (f *Forge) withRejection(ctx context.Context, p forge.Proposal) (forge.Proposal, error) {
	events, err := f.Timeline(ctx, p.Number)
	if err != nil {
		return p, err
	}
	for _, e := range events {
		if e.Kind == forge.EventClosed && !strings.EqualFold(e.Actor, p.Author) {
			p.RejectedBy, p.RejectedAt = e.Actor, e.At
			if p.RejectedBy == "" {
				p.RejectedBy = "a deleted account"
			}
		}
	}
	return p, nil
}
