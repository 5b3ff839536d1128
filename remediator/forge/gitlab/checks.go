package gitlab

import (
	"context"
	"fmt"
	"sort"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Commit statuses the remediator sets.
const (
	// OutcomeContext carries a remediation's outcome on its merge commit.
	OutcomeContext = "remediation/outcome"
	// ProvenanceContext says a person changed the merge request's head.
	ProvenanceContext = "remediation/provenance"
)

// Checks reports, per name, the newest commit status on a commit among those a
// reporter made (forge.check_reporters): pipeline jobs, reported by the user the
// pipeline ran as, and external statuses, by the user that set them. GitLab lets
// anyone with developer access set a status of any name, so the author is pinned.
// With no reporters none counts: checks fail closed.
func (f *Forge) Checks(ctx context.Context, sha string) (map[string]forge.CheckState, error) {
	out := map[string]forge.CheckState{}
	if len(f.reporters) == 0 {
		return out, nil
	}
	var all []*gl.CommitStatus
	o := &gl.GetCommitStatusesOptions{All: gl.Ptr(true), ListOptions: gl.ListOptions{PerPage: perPage}}
	for page := int64(1); ; page++ {
		o.Page = page
		list, resp, err := f.api.Commits.GetCommitStatuses(f.project, sha, o, gl.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("gitlab: statuses of %s: %w", sha, err)
		}
		all = append(all, list...)
		if resp.NextPage == 0 || len(list) == 0 {
			break
		}
	}
	// Newest first by GitLab's own id: a status's dates are GitLab's too, but two
	// in one millisecond tie.
	sort.Slice(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	seen := map[string]bool{}
	for _, s := range all {
		if s == nil || s.SHA != sha && s.SHA != "" || seen[s.Name] || !f.trusted(s.Author.Username) {
			continue
		}
		seen[s.Name] = true
		out[s.Name] = statusState(s.Status)
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

// statusState maps a commit status: only success passes; a job or status not yet
// finished waits; failed, canceled, skipped and any state this forge does not know
// fail.
func statusState(s string) forge.CheckState {
	switch gl.BuildStateValue(s) {
	case gl.Success:
		return forge.CheckSuccess
	case gl.Created, gl.WaitingForResource, gl.Preparing, gl.Pending, gl.Running, gl.Scheduled, gl.Manual:
		return forge.CheckPending
	}
	return forge.CheckFailure
}

// ReportCheck sets the commit status name on sha.
func (f *Forge) ReportCheck(ctx context.Context, sha, name string, state forge.CheckState, description string) error {
	s := gl.Pending
	switch state {
	case forge.CheckSuccess:
		s = gl.Success
	case forge.CheckFailure:
		s = gl.Failed
	}
	return f.setStatus(ctx, sha, name, s, description)
}

func (f *Forge) setStatus(ctx context.Context, sha, name string, s gl.BuildStateValue, description string) error {
	if len(description) > 255 {
		description = description[:252] + "..."
	}
	if _, _, err := f.api.Commits.SetCommitStatus(f.project, sha, &gl.SetCommitStatusOptions{State: s, Name: gl.Ptr(name), Description: gl.Ptr(description)}, gl.WithContext(ctx)); err != nil {
		return fmt.Errorf("gitlab: set status %s on %s: %w", name, sha, err)
	}
	return nil
}

// UpsertComment keeps one report on a merge request, found by its marker (among the
// remediator's own notes only): existing parts edited in place when they changed,
// new parts added, surplus parts deleted.
func (f *Forge) UpsertComment(ctx context.Context, number int, marker, body string) error {
	existing, err := f.markedNotes(ctx, number, marker, strings.HasPrefix)
	if err != nil {
		return err
	}
	parts := forge.Split(body, forge.MaxBody-len(marker)-1)
	for i, part := range parts {
		if !strings.HasPrefix(part, marker) {
			part = marker + "\n" + part
		}
		switch {
		case i < len(existing) && existing[i].Body == part:
		case i < len(existing):
			_, _, err = f.api.Notes.UpdateMergeRequestNote(f.project, int64(number), existing[i].ID, &gl.UpdateMergeRequestNoteOptions{Body: gl.Ptr(part)}, gl.WithContext(ctx))
		default:
			_, _, err = f.api.Notes.CreateMergeRequestNote(f.project, int64(number), &gl.CreateMergeRequestNoteOptions{Body: gl.Ptr(part)}, gl.WithContext(ctx))
		}
		if err != nil {
			return fmt.Errorf("gitlab: note on !%d: %w", number, err)
		}
	}
	for _, n := range existing[min(len(parts), len(existing)):] {
		if _, err := f.api.Notes.DeleteMergeRequestNote(f.project, int64(number), n.ID, gl.WithContext(ctx)); err != nil {
			return fmt.Errorf("gitlab: delete surplus note on !%d: %w", number, err)
		}
	}
	return nil
}

// markedNotes lists the remediator's own notes carrying the marker, oldest first: a
// person's note quoting the marker is never edited nor counted.
func (f *Forge) markedNotes(ctx context.Context, number int, marker string, has func(s, marker string) bool) ([]*gl.Note, error) {
	_, self, err := f.selfUser(ctx)
	if err != nil {
		return nil, err
	}
	var out []*gl.Note
	o := &gl.ListMergeRequestNotesOptions{Sort: gl.Ptr("asc"), OrderBy: gl.Ptr("created_at"), ListOptions: gl.ListOptions{PerPage: perPage}}
	for page := int64(1); ; page++ {
		o.Page = page
		notes, resp, err := f.api.Notes.ListMergeRequestNotes(f.project, int64(number), o, gl.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("gitlab: read notes of !%d: %w", number, err)
		}
		for _, n := range notes {
			if n != nil && !n.System && strings.EqualFold(n.Author.Username, self) && has(n.Body, marker) {
				out = append(out, n)
			}
		}
		if resp.NextPage == 0 || len(notes) == 0 {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ReportOutcome shows a merged remediation's outcome: a commit status on the merge
// commit, one note on the merge request and a label. Each step is idempotent.
func (f *Forge) ReportOutcome(ctx context.Context, branch, mergeSHA string, outcome forge.Outcome, detail string) error {
	state, label := gl.Success, forge.LabelVerified
	switch outcome {
	case forge.OutcomeFailed:
		state, label = gl.Failed, forge.LabelVerificationFailed
	case forge.OutcomeNotApplied:
		state, label = gl.Canceled, forge.LabelNotApplied
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
	return f.addLabels(ctx, p, label)
}

// ReportChangedByPerson says on the merge request that the remediator will not
// merge it: a failed status remediation/provenance on the head and one note.
func (f *Forge) ReportChangedByPerson(ctx context.Context, p forge.Proposal, reason string) error {
	if err := f.setStatus(ctx, p.Head, ProvenanceContext, gl.Failed, "changed by a person: the remediator will not merge it"); err != nil {
		return err
	}
	return f.UpsertComment(ctx, p.Number, forge.ChangedMarker, forge.ChangedByPersonComment("merge request", "approvals", p.Head, reason))
}
