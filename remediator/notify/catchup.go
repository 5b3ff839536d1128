package notify

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// CatchUp names the events of recent remediations that Git and the pass's findings
// still show, with the same ids their live events had, for Dispatcher.Tell to tell
// those nobody told: proposals waiting (the pass's waiting proposals, while their
// head is the remediator's own proposal commit), merges the remediator made on the
// base in the last CatchUpWindow, their outcomes (verified; failed, with the rollback
// and the breaker it may have tripped). Only what the remediator's key vouches for
// counts; dead letters are each replica's own (Dispatcher.CatchUpDeadLetters).
func (f Facts) CatchUp(outcomes []lifecycle.Result) ([]Candidate, error) {
	if f.Infra == nil || f.Infra.Signer == nil {
		return nil, nil
	}
	var out []Candidate
	for _, o := range outcomes {
		if c, ok := f.waiting(o); ok {
			out = append(out, c)
		}
	}
	merges, err := f.recentMerges()
	if err != nil {
		return out, fmt.Errorf("catch up notifications: %w", err)
	}
	for _, m := range merges {
		out = append(out, f.mergeCandidates(m)...)
	}
	return out, nil
}

// waiting is the proposal event of a proposal the pass found waiting.
func (f Facts) waiting(o lifecycle.Result) (Candidate, bool) {
	if o.Action != decision.Waiting || artifact.IsRollback(o.ID) || o.Head == "" {
		return Candidate{}, false // a rollback's proposal is told as its failure
	}
	head, err := f.Infra.Commit(plumbing.NewHash(o.Head))
	if err != nil || records.Provenance(head, o.ID, f.Infra.Signer.Public()) != "" {
		return Candidate{}, false // a person's commit on it: not the proposal that was told
	}
	build := func() []Event {
		art := f.artifact(o.Head, o.ID)
		if art == nil {
			return nil
		}
		res := propose.Result{Action: decision.Opened, ID: o.ID, Commit: o.Head, URL: o.URL, Runbook: art.Runbook, Policy: art.Policy, Risk: art.Risk}
		e, ok := f.Proposal(res, intake.Anomaly{StartsAt: parseTime(art.Anomaly.StartsAt, time.Time{})})
		if !ok {
			return nil
		}
		e.At = head.Committer.When.UTC()
		return []Event{e}
	}
	return Candidate{ID: key(ProposalWaiting, o.ID, o.Head), Kind: ProposalWaiting, At: head.Committer.When, Build: build}, true
}

// merge is a merge the remediator made, and its remediation's id.
type merge struct {
	c  *object.Commit
	id string
}

// recentMerges are the remediator's merges on the base's first-parent line in the
// window, newest first (the walk stops as the verifier's does).
func (f Facts) recentMerges() ([]merge, error) {
	key := f.Infra.Signer.Public()
	var out []merge
	err := records.WalkSince(f.Infra, f.Base, f.Now().Add(-CatchUpWindow), key, func(c *object.Commit) error {
		id := infrarepo.Trailers(c.Message)["Remediation-Id"]
		if c.NumParents() < 2 || id == "" {
			return nil
		}
		if why, err := records.MergeProvenanceOf(f.Infra, c, id, key); err != nil || why != "" {
			return nil //nolint:nilerr // a merge by hand is nobody's to tell
		}
		out = append(out, merge{c: c, id: id})
		return nil
	})
	return out, err
}

// mergeCandidates are a merge's events: merged, and its outcome when recorded.
func (f Facts) mergeCandidates(m merge) []Candidate {
	mergedAt := m.c.Committer.When
	out := []Candidate{{ID: key(Merged, m.id, m.c.Hash.String()), Kind: Merged, At: mergedAt, Build: func() []Event {
		e := f.base(lifecycle.Result{ID: m.id, Merge: m.c.Hash.String()}, Merged)
		e.At, e.Approvers = mergedAt.UTC(), approvedBy(m.c.Message)
		return []Event{e}
	}}}
	note, _, err := f.Infra.Note(records.OutcomeRef, m.c.Hash)
	if err != nil {
		return out
	}
	ev := records.ReadOutcome(note, m.c.Hash, f.Infra.Signer.Public())
	k := map[forge.Outcome]Kind{forge.OutcomeVerified: Verified, forge.OutcomeFailed: Failed}[ev.Outcome]
	if k == "" {
		return out
	}
	checked := parseTime(field(ev.Body, "checked_at"), mergedAt)
	return append(out, Candidate{ID: key(k, m.id, m.c.Hash.String()), Kind: k, At: checked, Build: func() []Event {
		return f.caughtOutcome(m, k, checked, field(ev.Body, "detail"))
	}})
}

// caughtOutcome is a recorded outcome's event, and the breaker a failure tripped.
func (f Facts) caughtOutcome(m merge, k Kind, checked time.Time, detail string) []Event {
	e := f.outcome(lifecycle.Result{ID: m.id, Merge: m.c.Hash.String(), Reason: detail}, k)
	e.At = checked.UTC()
	if k == Verified {
		e.Times.Verified = e.At
	}
	if k != Failed {
		return []Event{e}
	}
	if rb := decision.Branch(m.id + artifact.RollbackSuffix); f.hasBranch(rb) {
		e.Rollback = rb
	}
	if s, ok := f.suspended(e); ok {
		s.At = e.At
		return []Event{e, s}
	}
	return []Event{e}
}

func (f Facts) hasBranch(name string) bool {
	_, ok := f.Infra.Branch(name)
	return ok
}

// approvedBy are a merge commit's Approved-by trailers.
func approvedBy(msg string) []string {
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		if v, ok := strings.CutPrefix(line, "Approved-by: "); ok && strings.TrimSpace(v) != "" {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// field is a "name: value" line of an outcome note's body.
func field(body []byte, name string) string {
	for _, line := range bytes.Split(body, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(name+": ")); ok {
			return string(v)
		}
	}
	return ""
}
