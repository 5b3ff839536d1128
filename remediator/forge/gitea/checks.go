package gitea

import (
	"context"
	"fmt"
	"sort"
	"strings"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Commit statuses the remediator sets.
const (
	// OutcomeContext carries a remediation's outcome on its merge commit.
	OutcomeContext = "remediation/outcome"
	// ProvenanceContext says a person changed the pull request's head.
	ProvenanceContext = "remediation/provenance"
)

// Checks reports the newest commit status per context on a commit among those a
// reporter created (forge.check_reporters): Gitea lets anyone with write access set
// a status, so the creator is pinned. With no reporters none counts: checks fail
// closed. Gitea has no check runs of its own (Actions report statuses).
func (f *Forge) Checks(ctx context.Context, sha string) (map[string]forge.CheckState, error) {
	out := map[string]forge.CheckState{}
	if len(f.reporters) == 0 {
		return out, nil
	}
	c := f.client(ctx)
	var all []*sdk.Status
	for page := 1; ; page++ {
		list, _, err := c.ListStatuses(f.owner, f.repo, sha, sdk.ListStatusesOption{ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}})
		if err != nil {
			return nil, fmt.Errorf("gitea: statuses of %s: %w", sha, err)
		}
		all = append(all, list...)
		if len(list) < pageSize {
			break
		}
	}
	// Newest first, by Gitea's own id (a status's dates are Gitea's too, but two
	// statuses in one second tie).
	sort.Slice(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	seen := map[string]bool{}
	for _, s := range all {
		if s.Creator == nil || seen[s.Context] || !f.trusted(s.Creator.UserName) {
			continue
		}
		seen[s.Context] = true
		out[s.Context] = statusState(s.State)
	}
	return out, nil
}

func (f *Forge) trusted(login string) bool {
	for _, r := range f.reporters {
		if login != "" && strings.EqualFold(r, login) {
			return true
		}
	}
	return false
}

// statusState maps a commit status: only success passes, pending waits, and every
// other state (failure, error, warning, skipped, one this forge does not know)
// fails.
func statusState(s sdk.StatusState) forge.CheckState {
	switch s {
	case sdk.StatusSuccess:
		return forge.CheckSuccess
	case sdk.StatusPending:
		return forge.CheckPending
	default:
		return forge.CheckFailure
	}
}

// ReportCheck sets the commit status name on sha.
func (f *Forge) ReportCheck(ctx context.Context, sha, name string, state forge.CheckState, description string) error {
	s := sdk.StatusPending
	switch state {
	case forge.CheckSuccess:
		s = sdk.StatusSuccess
	case forge.CheckFailure:
		s = sdk.StatusFailure
	}
	return f.setStatus(ctx, sha, name, s, description)
}

func (f *Forge) setStatus(ctx context.Context, sha, name string, s sdk.StatusState, description string) error {
	if len(description) > 255 {
		description = description[:252] + "..."
	}
	if _, _, err := f.client(ctx).CreateStatus(f.owner, f.repo, sha, sdk.CreateStatusOption{State: s, Context: name, Description: description}); err != nil {
		return fmt.Errorf("gitea: set status %s on %s: %w", name, sha, err)
	}
	return nil
}

// UpsertComment keeps one report on a pull request, found by its marker (among the
// remediator's own comments only): the existing parts edited in place when they
// changed, new parts added, surplus parts deleted.
func (f *Forge) UpsertComment(ctx context.Context, number int, marker, body string) error {
	existing, err := f.markedComments(ctx, number, marker, strings.HasPrefix)
	if err != nil {
		return err
	}
	c := f.client(ctx)
	parts := forge.Split(body, forge.MaxBody-len(marker)-1)
	for i, part := range parts {
		if !strings.HasPrefix(part, marker) {
			part = marker + "\n" + part
		}
		switch {
		case i < len(existing) && existing[i].Body == part:
		case i < len(existing):
			_, _, err = c.EditIssueComment(f.owner, f.repo, existing[i].ID, sdk.EditIssueCommentOption{Body: part})
		default:
			_, _, err = c.CreateIssueComment(f.owner, f.repo, int64(number), sdk.CreateIssueCommentOption{Body: part})
		}
		if err != nil {
			return fmt.Errorf("gitea: comment on #%d: %w", number, err)
		}
	}
	for _, cm := range existing[min(len(parts), len(existing)):] {
		if _, err := c.DeleteIssueComment(f.owner, f.repo, cm.ID); err != nil {
			return fmt.Errorf("gitea: delete surplus comment on #%d: %w", number, err)
		}
	}
	return nil
}

// markedComments lists the remediator's own comments carrying the marker, oldest
// first: a person's comment quoting the marker is never edited nor counted.
func (f *Forge) markedComments(ctx context.Context, number int, marker string, has func(s, marker string) bool) ([]*sdk.Comment, error) {
	self, err := f.Self(ctx)
	if err != nil {
		return nil, err
	}
	c := f.client(ctx)
	var out []*sdk.Comment
	for page := 1; ; page++ {
		comments, _, err := c.ListIssueComments(f.owner, f.repo, int64(number), sdk.ListIssueCommentOptions{ListOptions: sdk.ListOptions{Page: page, PageSize: pageSize}})
		if err != nil {
			return nil, fmt.Errorf("gitea: read comments of #%d: %w", number, err)
		}
		for _, cm := range comments {
			if cm.Poster != nil && strings.EqualFold(cm.Poster.UserName, self) && has(cm.Body, marker) {
				out = append(out, cm)
			}
		}
		if len(comments) < pageSize {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ReportOutcome shows a merged remediation's outcome: a commit status on the merge
// commit, one comment on the pull request and a label. Each step is idempotent.
func (f *Forge) ReportOutcome(ctx context.Context, branch, mergeSHA string, outcome forge.Outcome, detail string) error {
	state, label := sdk.StatusSuccess, forge.LabelVerified
	switch outcome {
	case forge.OutcomeFailed:
		state, label = sdk.StatusFailure, forge.LabelVerificationFailed
	case forge.OutcomeNotApplied:
		state, label = sdk.StatusError, forge.LabelNotApplied
	}
	if err := f.setStatus(ctx, mergeSHA, OutcomeContext, state, detail); err != nil {
		return err
	}
	p, found, err := f.Lookup(ctx, branch)
	if err != nil || !found {
		return err
	}
	if err := f.UpsertComment(ctx, p.Number, forge.OutcomeMarker, forge.OutcomeComment(outcome, detail, mergeSHA)); err != nil {
		return err
	}
	return f.addLabels(ctx, p.Number, label)
}

// ReportChangedByPerson says on the pull request that the remediator will not merge
// it: a failed status remediation/provenance on the head and one comment.
func (f *Forge) ReportChangedByPerson(ctx context.Context, p forge.Proposal, reason string) error {
	if err := f.setStatus(ctx, p.Head, ProvenanceContext, sdk.StatusFailure, "changed by a person: the remediator will not merge it"); err != nil {
		return err
	}
	return f.UpsertComment(ctx, p.Number, forge.ChangedMarker, forge.ChangedByPersonComment("pull request", "reviews", p.Head, reason))
}
