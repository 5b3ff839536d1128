package github

import (
	"context"
	"fmt"
	"sort"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// UpsertComment keeps one report on a pull request, found by its marker: split under
// GitHub's limit without breaking code fences, the existing parts edited in place
// (only when they changed), new parts added, surplus parts deleted.
func (f *Forge) UpsertComment(ctx context.Context, number int, marker, body string) error {
	existing, err := f.markedComments(ctx, number, marker)
	if err != nil {
		return err
	}
	parts := forge.Split(body, forge.MaxBody-len(marker)-1)
	for i, part := range parts {
		if !strings.HasPrefix(part, marker) {
			part = marker + "\n" + part
		}
		if i < len(existing) {
			if existing[i].GetBody() == part {
				continue
			}
			if _, _, err := f.client.Issues.EditComment(ctx, f.owner, f.repo, existing[i].GetID(), &gh.IssueComment{Body: gh.String(part)}); err != nil {
				return fmt.Errorf("github: update comment on #%d: %w", number, err)
			}
			continue
		}
		if _, _, err := f.client.Issues.CreateComment(ctx, f.owner, f.repo, number, &gh.IssueComment{Body: gh.String(part)}); err != nil {
			return fmt.Errorf("github: comment on #%d: %w", number, err)
		}
	}
	for _, c := range existing[min(len(parts), len(existing)):] {
		if _, err := f.client.Issues.DeleteComment(ctx, f.owner, f.repo, c.GetID()); err != nil {
			return fmt.Errorf("github: delete surplus comment on #%d: %w", number, err)
		}
	}
	return nil
}

// markedComments lists the comments carrying the marker, oldest first.
func (f *Forge) markedComments(ctx context.Context, number int, marker string) ([]*gh.IssueComment, error) {
	var out []*gh.IssueComment
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := f.client.Issues.ListComments(ctx, f.owner, f.repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("github: read comments of #%d: %w", number, err)
		}
		for _, c := range comments {
			if strings.HasPrefix(c.GetBody(), marker) {
				out = append(out, c)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].GetID() < out[j].GetID() })
	return out, nil
}

// Status states.
const (
	StatusSuccess = "success"
	StatusFailure = "failure"
	StatusError   = "error"
	StatusPending = "pending"
)

// SetStatus sets a commit status on a commit.
func (f *Forge) SetStatus(ctx context.Context, sha, context, state, description string) error {
	if len(description) > 140 { // GitHub's limit on a status description
		description = description[:137] + "..."
	}
	_, _, err := f.client.Repositories.CreateStatus(ctx, f.owner, f.repo, sha, &gh.RepoStatus{
		State: gh.String(state), Context: gh.String(context), Description: gh.String(description),
	})
	if err != nil {
		return fmt.Errorf("github: set status %s on %s: %w", context, sha, err)
	}
	return nil
}

// ReportCheck sets the commit status name on sha in GitHub's words for the state.
func (f *Forge) ReportCheck(ctx context.Context, sha, name string, state forge.CheckState, description string) error {
	s := StatusPending
	switch state {
	case forge.CheckSuccess:
		s = StatusSuccess
	case forge.CheckFailure:
		s = StatusFailure
	}
	return f.SetStatus(ctx, sha, name, s, description)
}
