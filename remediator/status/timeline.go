package status

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Event is one step of a remediation's way, in the order it happened.
type Event struct {
	At   time.Time `json:"at,omitzero"`
	What string    `json:"what"`
}

// Remediation is one remediation's story, from Git alone.
type Remediation struct {
	ID       string            `json:"id"`
	Runbook  string            `json:"runbook"`
	Policy   string            `json:"policy"`
	Risk     string            `json:"risk"`
	Labels   map[string]string `json:"labels"`
	Expected string            `json:"expected"`
	Head     string            `json:"head,omitempty"`
	Merge    string            `json:"merge,omitempty"`
	Timeline []Event           `json:"timeline"`
	// TimeTo is the time from the anomaly to the proposal, merge and verification.
	TimeTo *audit.TimeTo `json:"time_to_remediate,omitempty"`
}

// ErrUnknown is a remediation Git knows nothing of.
var ErrUnknown = errors.New("no such remediation")

// Timeline tells one remediation from its branch, its merge on the base, and their
// notes: anomaly, proposal, approvals, checks, merge, applied, resolved, outcome, and
// the rollback.
func Timeline(infra *infrarepo.Repo, base, id string, now time.Time) (*Remediation, error) {
	head, onBranch := infra.Branch(decision.Branch(id))
	merge, err := mergeOf(infra, base, id, now)
	if err != nil {
		return nil, err
	}
	if !onBranch && merge == nil {
		return nil, ErrUnknown
	}
	at := head
	if merge != nil {
		at = merge.Hash
		if len(merge.ParentHashes) > 1 {
			head = merge.ParentHashes[1]
		}
	}
	data, err := infra.ReadFile(at, artifact.Path(id))
	if err != nil {
		return nil, fmt.Errorf("%w: %s carries no artifact", ErrUnknown, at.String()[:12])
	}
	art, err := artifact.Decode(data)
	if err != nil {
		return nil, err
	}
	r := &Remediation{ID: id, Runbook: art.Runbook, Policy: art.Policy, Risk: art.Risk, Labels: art.Anomaly.Labels, Expected: art.Expected, Head: head.String()}
	add := func(t time.Time, format string, args ...any) {
		r.Timeline = append(r.Timeline, Event{At: t.UTC(), What: fmt.Sprintf(format, args...)})
	}
	if t, err := time.Parse(time.RFC3339, art.Anomaly.StartsAt); err == nil && t.Year() > 1 {
		add(t, "anomaly %s started", runbooks.FormatLabels(art.Anomaly.Labels))
	}
	proposed, _ := time.Parse(time.RFC3339, art.ProposedAt)
	add(proposed, "proposed by runbook %s (risk %s, policy %s, %d approval(s) required)", art.Runbook, art.Risk, art.Policy, art.RequiredApprovals)
	if err := notes(infra, head, merge, add); err != nil {
		return r, err
	}
	if merge != nil {
		r.Merge = merge.Hash.String()
	}
	if rb, ok := infra.Branch(decision.Branch(id + artifact.RollbackSuffix)); ok {
		if c, err := infra.Commit(rb); err == nil {
			add(c.Committer.When, "rollback proposed on %s", decision.Branch(id+artifact.RollbackSuffix))
		}
	}
	sort.SliceStable(r.Timeline, func(i, j int) bool {
		a, b := r.Timeline[i].At, r.Timeline[j].At
		return !a.IsZero() && !b.IsZero() && a.Before(b)
	})
	r.TimeTo = r.timeTo(art, merge)
	return r, nil
}

// notes adds what the head's and the merge's notes say.
func notes(infra *infrarepo.Repo, head plumbing.Hash, merge *object.Commit, add func(time.Time, string, ...any)) error {
	if note, _, err := infra.Note(records.ApprovalsRef, head); err != nil {
		return err
	} else if note != nil {
		entries, _ := records.ParseApprovals(note)
		for _, a := range entries {
			add(a.At, "approved by %s (via %s)", a.Principal, a.Via)
		}
	}
	checksAt := time.Time{}
	if c, err := infra.Commit(head); err == nil {
		checksAt = c.Committer.When
	}
	checksNote, _, err := infra.Note(records.ChecksRef, head)
	if err != nil {
		return err
	}
	for _, r := range records.ParseChecks(checksNote) {
		if r.Signature == nil {
			add(checksAt, "check %s: %s (an unsigned report, which does not count)", r.Name, r.State)
			continue
		}
		add(r.At, "check %s: %s (reported by %s)", r.Name, r.State, r.By)
	}
	if merge == nil {
		return nil
	}
	tr := infrarepo.Trailers(merge.Message)
	by := tr["Approved-by"]
	if by == "" {
		by = "nobody (auto-merge)"
	}
	add(merge.Committer.When, "merged as %s (approved by %s)", merge.Hash.String()[:12], by)
	key := infra.Signer.Public()
	if why, err := records.MergeProvenanceOf(infra, merge, tr["Remediation-Id"], key); err != nil || why != "" {
		if err == nil {
			add(merge.Committer.When, "%s; the remediator does not verify it", why)
		}
		return err
	}
	progress, _, err := infra.Note(records.ProgressRef, merge.Hash)
	if err != nil {
		return err
	}
	p := records.ReadProgress(progress, merge.Hash, key)
	if !p.AppliedAt.IsZero() {
		add(p.AppliedAt, "applied (seen by the remediator)")
	}
	if !p.ResolvedSince.IsZero() {
		add(p.ResolvedSince, "anomaly gone: soak period began")
	}
	note, found, err := infra.Note(records.OutcomeRef, merge.Hash)
	if err != nil || !found {
		return err
	}
	ev := records.ReadOutcome(note, merge.Hash, key)
	if ev.Tampered != "" {
		add(merge.Committer.When, "%s: it proves nothing", ev.Tampered)
		return nil
	}
	checked := merge.Committer.When
	detail := ""
	for _, line := range strings.Split(string(ev.Body), "\n") {
		if v, ok := strings.CutPrefix(line, "checked_at: "); ok {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				checked = t
			}
		}
		if v, ok := strings.CutPrefix(line, "detail: "); ok {
			detail = v
		}
	}
	add(checked, "%s: %s", ev.Outcome, detail)
	return nil
}

// mergeOf finds the merge of the remediation on the base within the horizon.
func mergeOf(infra *infrarepo.Repo, base, id string, now time.Time) (*object.Commit, error) {
	var found *object.Commit
	err := infra.WalkFirstParent(base, func(c *object.Commit) error {
		if c.Committer.When.Before(now.Add(-horizon)) {
			return storer.ErrStop
		}
		if c.NumParents() >= 2 && infrarepo.Trailers(c.Message)["Remediation-Id"] == id {
			found = c
			return storer.ErrStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return nil, err
	}
	return found, nil
}
