package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Lookup finds the newest merge request the remediator opened from a branch, in any
// state, with who closed it. A merge request by anyone else, or from a fork, names
// nothing.
func (f *Forge) Lookup(ctx context.Context, branch string) (forge.Proposal, bool, error) {
	ps, err := f.list(ctx, &gl.ListProjectMergeRequestsOptions{State: gl.Ptr("all"), SourceBranch: gl.Ptr(branch)})
	if err != nil {
		return forge.Proposal{}, false, fmt.Errorf("gitlab: look up %s: %w", branch, err)
	}
	var best forge.Proposal
	found := false
	for _, p := range ps {
		if p.Branch == branch && (!found || p.Number > best.Number) {
			best, found = p, true
		}
	}
	if !found {
		return forge.Proposal{}, false, nil
	}
	best, err = f.withRejection(ctx, best)
	return best, err == nil, err
}

// Proposals lists the remediator's open merge requests, and those created since the
// given time in any state: what the policy limits are counted from.
func (f *Forge) Proposals(ctx context.Context, since time.Time) ([]forge.Proposal, error) {
	out, err := f.OpenProposals(ctx)
	if err != nil {
		return nil, err
	}
	all, err := f.list(ctx, &gl.ListProjectMergeRequestsOptions{State: gl.Ptr("all"), CreatedAfter: gl.Ptr(since)})
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if p.State != forge.Open && !p.Created.Before(since) {
			out = append(out, p)
		}
	}
	return out, nil
}

// list reads the merge requests the options select, by the remediator's own user
// only, every page, keeping those that are the remediator's proposals.
func (f *Forge) list(ctx context.Context, o *gl.ListProjectMergeRequestsOptions) ([]forge.Proposal, error) {
	var out []forge.Proposal
	err := f.listEach(ctx, o, func(p forge.Proposal, _ time.Time) { out = append(out, p) })
	return out, err
}

// listEach calls fn with each of the remediator's proposals the options select,
// and GitLab's updated_at of it.
func (f *Forge) listEach(ctx context.Context, o *gl.ListProjectMergeRequestsOptions, fn func(forge.Proposal, time.Time)) error {
	selfID, self, err := f.selfUser(ctx)
	if err != nil {
		return err
	}
	pid, err := f.projectIDOf(ctx)
	if err != nil {
		return err
	}
	o.AuthorID = gl.Ptr(selfID)
	o.PerPage = perPage
	for page := int64(1); ; page++ {
		o.Page = page
		mrs, resp, err := f.api.MergeRequests.ListProjectMergeRequests(f.project, o, gl.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("gitlab: list merge requests: %w", err)
		}
		for _, m := range mrs {
			if p, ok := proposal(m, self, pid); ok {
				var updated time.Time
				if m.UpdatedAt != nil {
					updated = *m.UpdatedAt
				}
				fn(p, updated)
			}
		}
		if resp.NextPage == 0 || len(mrs) == 0 {
			return nil
		}
	}
}

// proposal reads a merge request; ok is false when it is not the remediator's: its
// marker, opened by its own user, from a branch of this very project into it.
func proposal(m *gl.BasicMergeRequest, self string, pid int64) (forge.Proposal, bool) {
	fields, ok := forge.ParseMarker(m.Description)
	if !ok || m.Author == nil || !strings.EqualFold(m.Author.Username, self) || m.SourceProjectID != pid || m.TargetProjectID != pid {
		return forge.Proposal{}, false
	}
	p := forge.Proposal{
		ID: fields["id"], Runbook: fields["runbook"], Policy: fields["policy"],
		Branch: m.SourceBranch, Number: int(m.IID), URL: m.WebURL, Head: m.SHA, Body: m.Description, State: forge.Open,
		Author: m.Author.Username, ReviewRequests: len(m.Reviewers), Base: m.TargetBranch, Labels: append([]string(nil), m.Labels...),
	}
	if m.CreatedAt != nil {
		p.Created = *m.CreatedAt
	}
	switch m.State {
	case "merged":
		p.State = forge.Merged
		if m.MergedAt != nil {
			p.Closed = *m.MergedAt
		}
	case "closed":
		p.State = forge.Closed
		if m.ClosedAt != nil {
			p.Closed = *m.ClosedAt
		}
	}
	return p, true
}

// PullRequest reads the merge request again, as it is now.
func (f *Forge) PullRequest(ctx context.Context, number int) (forge.Proposal, error) {
	m, err := f.mergeRequest(ctx, number)
	if err != nil {
		return forge.Proposal{}, err
	}
	_, self, err := f.selfUser(ctx)
	if err != nil {
		return forge.Proposal{}, err
	}
	pid, err := f.projectIDOf(ctx)
	if err != nil {
		return forge.Proposal{}, err
	}
	p, ok := proposal(&m.BasicMergeRequest, self, pid)
	if !ok {
		return forge.Proposal{}, fmt.Errorf("gitlab: merge request !%d is no longer the remediator's (marker, author or source project)", number)
	}
	return p, nil
}

// mergeRequest reads the merge request; GitLab's updated_at of it moves what the
// forge keeps of it on (memory.go), so a change seen here is never served stale.
func (f *Forge) mergeRequest(ctx context.Context, number int) (*gl.MergeRequest, error) {
	m, _, err := f.api.MergeRequests.GetMergeRequest(f.project, int64(number), nil, gl.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("gitlab: read merge request !%d: %w", number, err)
	}
	f.known.saw(number, m.UpdatedAt)
	return m, nil
}

// Open opens the merge request for a pushed branch, labelled, asking for the
// reviewers; squash off, the source branch kept. Opening twice is safe: GitLab
// refuses a second open merge request of a branch (409), and the first is returned.
func (f *Forge) Open(ctx context.Context, r forge.Request) (forge.Proposal, error) {
	_, self, err := f.selfUser(ctx)
	if err != nil {
		return forge.Proposal{}, err
	}
	pid, err := f.projectIDOf(ctx)
	if err != nil {
		return forge.Proposal{}, err
	}
	labels := gl.LabelOptions(forge.Labels(r.Artifact))
	reviewers, err := f.reviewerIDs(ctx, r)
	if err != nil {
		return forge.Proposal{}, err
	}
	m, _, err := f.api.MergeRequests.CreateMergeRequest(f.project, &gl.CreateMergeRequestOptions{
		Title: gl.Ptr(forge.Title(r.Artifact)), Description: gl.Ptr(forge.Body(r)), SourceBranch: gl.Ptr(r.Branch), TargetBranch: gl.Ptr(r.Base),
		Labels: &labels, ReviewerIDs: &reviewers, Squash: gl.Ptr(false), RemoveSourceBranch: gl.Ptr(false)}, gl.WithContext(ctx))
	if err != nil {
		if s := status(err); s == http.StatusConflict || s == http.StatusUnprocessableEntity {
			p, found, lerr := f.Lookup(ctx, r.Branch)
			if lerr == nil && found && p.State == forge.Open {
				f.logger.Info("gitlab: merge request already open", "remediation_id", r.Artifact.ID, "number", p.Number)
				return p, f.addLabels(ctx, p, forge.Labels(r.Artifact)...)
			}
		}
		return forge.Proposal{}, fmt.Errorf("gitlab: open merge request for %s: %w", r.Branch, err)
	}
	p, ok := proposal(&m.BasicMergeRequest, self, pid)
	if !ok {
		return forge.Proposal{}, fmt.Errorf("gitlab: the merge request opened for %s is not the remediator's", r.Branch)
	}
	return p, nil
}

// reviewerIDs are the ids of the people asked to review. GitLab asks people only:
// a group of required_reviewers is counted by the gate, not asked.
func (f *Forge) reviewerIDs(ctx context.Context, r forge.Request) ([]int64, error) {
	ids := []int64{}
	for _, rv := range r.Reviewers {
		if strings.Contains(rv, "/") {
			f.logger.Info("gitlab: a group cannot be asked to review; its members are counted", "remediation_id", r.Artifact.ID, "group", rv)
			continue
		}
		id, ok, err := f.userID(ctx, rv)
		if err != nil {
			return nil, err
		}
		if !ok {
			f.logger.Warn("gitlab: reviewer unknown to GitLab", "remediation_id", r.Artifact.ID, "reviewer", rv)
			continue
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// addLabels puts the labels the merge request lacks on it (GitLab creates a label
// named that the project lacks).
func (f *Forge) addLabels(ctx context.Context, p forge.Proposal, names ...string) error {
	var missing gl.LabelOptions
	for _, l := range names {
		if !slices.Contains(p.Labels, l) {
			missing = append(missing, l)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, _, err := f.api.MergeRequests.UpdateMergeRequest(f.project, int64(p.Number), &gl.UpdateMergeRequestOptions{AddLabels: &missing}, gl.WithContext(ctx)); err != nil {
		return fmt.Errorf("gitlab: label !%d: %w", p.Number, err)
	}
	return nil
}

// Recur records a repeat of the anomaly on the open merge request: the description
// rewritten only when it changed, missing labels restored, and the one recurrence
// note counting the repeat. It returns the count.
func (f *Forge) Recur(ctx context.Context, p forge.Proposal, r forge.Request) (int, error) {
	if body := forge.Body(r); body != p.Body {
		if _, _, err := f.api.MergeRequests.UpdateMergeRequest(f.project, int64(p.Number), &gl.UpdateMergeRequestOptions{Description: gl.Ptr(body)}, gl.WithContext(ctx)); err != nil {
			return 0, fmt.Errorf("gitlab: update merge request !%d: %w", p.Number, err)
		}
	}
	if err := f.addLabels(ctx, p, forge.Labels(r.Artifact)...); err != nil {
		return 0, err
	}
	marker := forge.RecurrenceMarker(r.Artifact.ID)
	existing, err := f.markedNotes(ctx, p.Number, marker, strings.Contains)
	if err != nil {
		return 0, err
	}
	count := 1
	if len(existing) > 0 {
		count = forge.ParseRecurrence(existing[0].Body) + 1
	}
	body := forge.RecurrenceComment(r.Artifact.ID, count, r.Seen.UTC().Format(time.RFC3339), r.Value)
	if len(existing) > 0 {
		_, _, err = f.api.Notes.UpdateMergeRequestNote(f.project, int64(p.Number), existing[0].ID, &gl.UpdateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	} else {
		_, _, err = f.api.Notes.CreateMergeRequestNote(f.project, int64(p.Number), &gl.CreateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	}
	if err != nil {
		return 0, fmt.Errorf("gitlab: count recurrence on !%d: %w", p.Number, err)
	}
	return count, nil
}

// Close notes why and closes the merge request without merging it, labelled
// resolved: a rejection by a reviewer suppresses the anomaly for the cooldown, this
// does not.
func (f *Forge) Close(ctx context.Context, p forge.Proposal, reason string) error {
	return f.closeLabeled(ctx, p, reason, forge.LabelResolved)
}

// Supersede closes a merge request made under a catalog that changed since,
// labelled superseded (which starts no cooldown), with a note saying why.
func (f *Forge) Supersede(ctx context.Context, p forge.Proposal, reason string) error {
	return f.closeLabeled(ctx, p, reason, forge.LabelSuperseded)
}

func (f *Forge) closeLabeled(ctx context.Context, p forge.Proposal, reason, label string) error {
	if err := f.UpsertComment(ctx, p.Number, "<!-- remediation:closed -->", reason); err != nil {
		return err
	}
	add := gl.LabelOptions{label}
	if _, _, err := f.api.MergeRequests.UpdateMergeRequest(f.project, int64(p.Number), &gl.UpdateMergeRequestOptions{
		AddLabels: &add, StateEvent: gl.Ptr("close")}, gl.WithContext(ctx)); err != nil {
		return fmt.Errorf("gitlab: close !%d: %w", p.Number, err)
	}
	return nil
}
