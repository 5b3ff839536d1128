package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// closedHorizon bounds how far back the closed pull requests are read: far beyond
// any cooldown a rejection starts, and a proposal closed longer ago than that is
// proposed afresh.
const closedHorizon = 90 * 24 * time.Hour

// pageSize is Gitea's default maximum page (MAX_RESPONSE_ITEMS).
const pageSize = 50

// Lookup finds the newest pull request the remediator opened from a branch, in any
// state. A pull request by anyone else, or from a fork, names nothing.
func (f *Forge) Lookup(ctx context.Context, branch string) (forge.Proposal, bool, error) {
	open, err := f.OpenProposals(ctx)
	if err != nil {
		return forge.Proposal{}, false, fmt.Errorf("gitea: look up %s: %w", branch, err)
	}
	p, ok := newestOf(open, branch)
	if !ok {
		closed, err := f.closedProposals(ctx, f.now().Add(-closedHorizon))
		if err != nil {
			return forge.Proposal{}, false, fmt.Errorf("gitea: look up %s: %w", branch, err)
		}
		if p, ok = newestOf(closed, branch); !ok {
			return forge.Proposal{}, false, nil
		}
	}
	// Who closed it decides whether it was rejected, even once reopened.
	p, err = f.withRejection(ctx, p)
	return p, err == nil, err
}

func newestOf(ps []forge.Proposal, branch string) (forge.Proposal, bool) {
	var best forge.Proposal
	found := false
	for _, p := range ps {
		if p.Branch == branch && (!found || p.Number > best.Number) {
			best, found = p, true
		}
	}
	return best, found
}

// OpenProposals lists the remediator's open pull requests.
func (f *Forge) OpenProposals(ctx context.Context) ([]forge.Proposal, error) {
	return f.list(ctx, sdk.StateOpen, time.Time{})
}

// closedProposals lists the remediator's closed and merged pull requests updated
// since the given time.
func (f *Forge) closedProposals(ctx context.Context, since time.Time) ([]forge.Proposal, error) {
	return f.list(ctx, sdk.StateClosed, since)
}

// Proposals lists the remediator's open pull requests, and those created since the
// given time in any state: what the policy limits are counted from.
func (f *Forge) Proposals(ctx context.Context, since time.Time) ([]forge.Proposal, error) {
	out, err := f.OpenProposals(ctx)
	if err != nil {
		return nil, err
	}
	closed, err := f.closedProposals(ctx, since)
	if err != nil {
		return nil, err
	}
	for _, p := range closed {
		if !p.Created.Before(since) {
			out = append(out, p)
		}
	}
	return out, nil
}

// list reads the pull requests in one state, newest update first, down to since,
// keeping the remediator's own.
func (f *Forge) list(ctx context.Context, state sdk.StateType, since time.Time) ([]forge.Proposal, error) {
	self, err := f.Self(ctx)
	if err != nil {
		return nil, err
	}
	c := f.client(ctx)
	var out []forge.Proposal
	for page := 1; ; page++ {
		prs, _, err := c.ListRepoPullRequests(f.owner, f.repo, sdk.ListPullRequestsOptions{
			ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}, State: state, Sort: "recentupdate"})
		if err != nil {
			return nil, fmt.Errorf("gitea: list %s pull requests: %w", state, err)
		}
		for _, pr := range prs {
			if p, ok := f.proposal(pr, self); ok {
				out = append(out, p)
			}
		}
		if len(prs) < pageSize || (!since.IsZero() && prs[len(prs)-1].Updated != nil && prs[len(prs)-1].Updated.Before(since)) {
			return out, nil
		}
	}
}

// proposal reads a pull request; ok is false when it is not the remediator's: its
// marker, opened by its own account, from a branch of this very repository.
func (f *Forge) proposal(pr *sdk.PullRequest, self string) (forge.Proposal, bool) {
	fields, ok := forge.ParseMarker(pr.Body)
	if !ok || pr.Poster == nil || !strings.EqualFold(pr.Poster.UserName, self) || pr.Head == nil || pr.Base == nil ||
		pr.Head.Repository == nil || !strings.EqualFold(pr.Head.Repository.FullName, f.owner+"/"+f.repo) || pr.Head.RepoID != pr.Base.RepoID {
		return forge.Proposal{}, false
	}
	p := forge.Proposal{
		ID: fields["id"], Runbook: fields["runbook"], Policy: fields["policy"],
		Branch: pr.Head.Ref, Number: int(pr.Index), URL: pr.HTMLURL, Head: pr.Head.Sha, Body: pr.Body, State: forge.Open,
		Author: pr.Poster.UserName, ReviewRequests: len(pr.RequestedReviewers) + len(pr.RequestedReviewersTeams), Base: pr.Base.Ref,
	}
	if pr.Created != nil {
		p.Created = *pr.Created
	}
	for _, l := range pr.Labels {
		p.Labels = append(p.Labels, l.Name)
	}
	switch {
	case pr.HasMerged:
		p.State = forge.Merged
		if pr.Merged != nil {
			p.Closed = *pr.Merged
		}
	case pr.State == sdk.StateClosed:
		p.State = forge.Closed
		if pr.Closed != nil {
			p.Closed = *pr.Closed
		}
	}
	return p, true
}

// PullRequest reads the pull request again, as it is now.
func (f *Forge) PullRequest(ctx context.Context, number int) (forge.Proposal, error) {
	self, err := f.Self(ctx)
	if err != nil {
		return forge.Proposal{}, err
	}
	pr, _, err := f.client(ctx).GetPullRequest(f.owner, f.repo, int64(number))
	if err != nil {
		return forge.Proposal{}, fmt.Errorf("gitea: read pull request #%d: %w", number, err)
	}
	p, ok := f.proposal(pr, self)
	if !ok {
		return forge.Proposal{}, fmt.Errorf("gitea: pull request #%d is no longer the remediator's (marker, author or head repository)", number)
	}
	return p, nil
}

// Open opens the pull request for a pushed branch, labels it and asks for the
// reviewers. Opening twice is safe: Gitea refuses a second pull request for the same
// branch (409), and the first is returned.
func (f *Forge) Open(ctx context.Context, r forge.Request) (forge.Proposal, error) {
	self, err := f.Self(ctx)
	if err != nil {
		return forge.Proposal{}, err
	}
	pr, resp, err := f.client(ctx).CreatePullRequest(f.owner, f.repo, sdk.CreatePullRequestOption{
		Head: r.Branch, Base: r.Base, Title: forge.Title(r.Artifact), Body: forge.Body(r)})
	if err != nil {
		if status(resp) == http.StatusConflict || status(resp) == http.StatusUnprocessableEntity {
			p, found, lerr := f.Lookup(ctx, r.Branch)
			if lerr == nil && found && p.State == forge.Open {
				f.logger.Info("gitea: pull request already open", "remediation_id", r.Artifact.ID, "number", p.Number)
				ask, err := f.unreviewed(ctx, p)
				if err != nil {
					return forge.Proposal{}, err
				}
				return p, f.decorate(ctx, p, r, ask)
			}
		}
		return forge.Proposal{}, fmt.Errorf("gitea: open pull request for %s: %w", r.Branch, err)
	}
	p, ok := f.proposal(pr, self)
	if !ok {
		return forge.Proposal{}, fmt.Errorf("gitea: the pull request opened for %s is not the remediator's", r.Branch)
	}
	return p, f.decorate(ctx, p, r, true)
}

// unreviewed says whether reviews may be asked for again: only when none is pending
// and nobody has reviewed. On Gitea a review request takes the official flag off the
// reviewer's earlier reviews, so asking again would void an approval already given.
func (f *Forge) unreviewed(ctx context.Context, p forge.Proposal) (bool, error) {
	if p.ReviewRequests > 0 {
		return false, nil
	}
	reviews, err := f.Reviews(ctx, p.Number)
	return len(reviews) == 0, err
}

// decorate adds the labels the proposal lacks and, on opening, asks for the reviews.
func (f *Forge) decorate(ctx context.Context, p forge.Proposal, r forge.Request, review bool) error {
	var missing []string
	for _, l := range forge.Labels(r.Artifact) {
		if !slices.Contains(p.Labels, l) {
			missing = append(missing, l)
		}
	}
	if err := f.addLabels(ctx, p.Number, missing...); err != nil {
		return err
	}
	if !review || len(r.Reviewers) == 0 {
		return nil
	}
	var req sdk.PullReviewRequestOptions
	for _, rv := range r.Reviewers {
		if org, team, ok := strings.Cut(rv, "/"); ok {
			if strings.EqualFold(org, f.owner) {
				req.TeamReviewers = append(req.TeamReviewers, team)
			} else {
				f.logger.Warn("gitea: team of another organisation cannot review here", "remediation_id", r.Artifact.ID, "team", rv)
			}
			continue
		}
		req.Reviewers = append(req.Reviewers, rv)
	}
	if resp, err := f.client(ctx).CreateReviewRequests(f.owner, f.repo, int64(p.Number), req); err != nil {
		// A reviewer Gitea refuses (unknown, no access, the author; teams on a
		// user's repository) leaves the pull request open and says why: the gate
		// still counts what it needs.
		if s := status(resp); s == http.StatusUnprocessableEntity || s == http.StatusNotFound {
			f.logger.Warn("gitea: reviewers refused", "remediation_id", r.Artifact.ID, "number", p.Number, "error", err)
			return nil
		}
		return fmt.Errorf("gitea: request reviewers on #%d: %w", p.Number, err)
	}
	return nil
}

// Recur records a repeat of the anomaly on the open pull request: the body
// rewritten only when it changed, missing labels restored, and the one recurrence
// comment counting the repeat. It returns the count.
func (f *Forge) Recur(ctx context.Context, p forge.Proposal, r forge.Request) (int, error) {
	c := f.client(ctx)
	if body := forge.Body(r); body != p.Body {
		if _, _, err := c.EditPullRequest(f.owner, f.repo, int64(p.Number), sdk.EditPullRequestOption{Body: &body}); err != nil {
			return 0, fmt.Errorf("gitea: update pull request #%d: %w", p.Number, err)
		}
	}
	if err := f.decorate(ctx, p, r, false); err != nil {
		return 0, err
	}
	marker := forge.RecurrenceMarker(r.Artifact.ID)
	existing, err := f.markedComments(ctx, p.Number, marker, strings.Contains)
	if err != nil {
		return 0, err
	}
	count := 1
	if len(existing) > 0 {
		count = forge.ParseRecurrence(existing[0].Body) + 1
	}
	body := forge.RecurrenceComment(r.Artifact.ID, count, r.Seen.UTC().Format(time.RFC3339), r.Value)
	if len(existing) > 0 {
		_, _, err = c.EditIssueComment(f.owner, f.repo, existing[0].ID, sdk.EditIssueCommentOption{Body: body})
	} else {
		_, _, err = c.CreateIssueComment(f.owner, f.repo, int64(p.Number), sdk.CreateIssueCommentOption{Body: body})
	}
	if err != nil {
		return 0, fmt.Errorf("gitea: count recurrence on #%d: %w", p.Number, err)
	}
	return count, nil
}

// Close comments why and closes the pull request without merging it, labelled
// resolved: a rejection by a reviewer suppresses the anomaly for the cooldown, this
// does not.
func (f *Forge) Close(ctx context.Context, p forge.Proposal, reason string) error {
	return f.closeLabeled(ctx, p, reason, forge.LabelResolved)
}

// Supersede closes a pull request made under a catalog that changed since, labelled
// superseded (which starts no cooldown), with a comment saying why.
func (f *Forge) Supersede(ctx context.Context, p forge.Proposal, reason string) error {
	return f.closeLabeled(ctx, p, reason, forge.LabelSuperseded)
}

func (f *Forge) closeLabeled(ctx context.Context, p forge.Proposal, reason, label string) error {
	if err := f.addLabels(ctx, p.Number, label); err != nil {
		return err
	}
	if err := f.UpsertComment(ctx, p.Number, "<!-- remediation:closed -->", reason); err != nil {
		return err
	}
	closed := sdk.StateClosed
	if _, _, err := f.client(ctx).EditPullRequest(f.owner, f.repo, int64(p.Number), sdk.EditPullRequestOption{State: &closed}); err != nil {
		return fmt.Errorf("gitea: close #%d: %w", p.Number, err)
	}
	return nil
}

// addLabels puts labels on a pull request by name, creating those the repository
// lacks (Gitea labels an issue by label id).
func (f *Forge) addLabels(ctx context.Context, number int, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	c := f.client(ctx)
	ids := map[string]int64{}
	for page := 1; ; page++ {
		labels, _, err := c.ListRepoLabels(f.owner, f.repo, sdk.ListLabelsOptions{ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}})
		if err != nil {
			return fmt.Errorf("gitea: read labels: %w", err)
		}
		for _, l := range labels {
			ids[l.Name] = l.ID
		}
		if len(labels) < pageSize {
			break
		}
	}
	var want []int64
	for _, n := range names {
		id, ok := ids[n]
		if !ok {
			l, _, err := c.CreateLabel(f.owner, f.repo, sdk.CreateLabelOption{Name: n, Color: "#6f42c1", Description: "set by the remediator"})
			if err != nil {
				return fmt.Errorf("gitea: create label %s: %w", n, err)
			}
			id = l.ID
		}
		want = append(want, id)
	}
	if _, _, err := c.AddIssueLabels(f.owner, f.repo, int64(number), sdk.IssueLabelsOption{Labels: want}); err != nil {
		return fmt.Errorf("gitea: label #%d: %w", number, err)
	}
	return nil
}

// errNoHead is a merge call without the head it must merge at: never sent, since
// Gitea would merge whatever the branch holds.
var errNoHead = errors.New("gitea: merge without head_commit_id refused")
