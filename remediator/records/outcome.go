package records

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// OutcomeRef holds the outcome notes of merged remediations.
const OutcomeRef = "refs/notes/remediation"

// OutcomeOf reads "outcome: X" from an outcome note's text.
func OutcomeOf(note []byte) forge.Outcome {
	for _, line := range strings.Split(string(note), "\n") {
		if v, ok := strings.CutPrefix(line, "outcome: "); ok {
			return forge.Outcome(strings.TrimSpace(v))
		}
	}
	return ""
}

// History is the base branch's history read as evidence: the merges the remediator
// made and the outcomes it sealed for them. What anyone else wrote (a merge by hand
// with the right trailers, an outcome note pushed by a person) earns nothing.
type History struct {
	Repo *infrarepo.Repo
	Base string
	// Remediator is the remediator's public key, which signs its merges and seals
	// its records; without it nothing counts.
	Remediator ssh.PublicKey
	// Now ends the wait for an outcome: a merge older than the verification horizon
	// without one is unaccounted for.
	Now time.Time
}

// merge is one merged remediation of the remediator's, as the history shows it.
type merge struct {
	commit *object.Commit
	id     string
	key    RecordKey
	// outcome is the sealed one, or failed when its rollback merged (whatever
	// the note says now).
	outcome forge.Outcome
	// tampered says why its outcome note is not the remediator's record.
	tampered string
	// deleted: a sealed record of its verification was deleted.
	deleted bool
	// missing: no outcome although the verification horizon has passed.
	missing bool
	// checkedAt is when the outcome was recorded (the merge time when unknown).
	checkedAt time.Time
	// reverted: a later commit of the base reverts it, an operator's rejection.
	reverted bool
}

// merges walks the base's first-parent history back to since (zero: all), newest
// first, and calls fn for each merged remediation the remediator made whose runbook
// version keep accepts (nil: all), rollbacks excepted; a rollback that merged marks
// the merge it undid failed (its trailers name the same runbook version). keep is
// asked first, so that only the merges asked about have their signature checked.
func (h History) merges(since time.Time, keep func(RecordKey) bool, fn func(m merge) error) error {
	rolledBack := map[string]bool{}
	reverts := map[plumbing.Hash]plumbing.Hash{}
	w := NewWitness(h.Repo.Storer(), CurrentTips(h.Repo))
	// Graph order: only a merge of the remediator's, dated by its own clock, ends the
	// walk; a back-dated commit someone pushed on top hides no failure beneath it.
	return WalkSince(h.Repo, h.Base, since, h.Remediator, func(c *object.Commit) error {
		RevertedBy(h.Repo, c, reverts)
		if c.NumParents() < 2 {
			return nil
		}
		defer w.AddSigned(c, h.Remediator) // for the older merges: it is newer
		tr := infrarepo.Trailers(c.Message)
		id := tr["Remediation-Id"]
		key := RecordKey{tr["Runbook"], tr["Runbook-Version"]}
		if id == "" || key.Runbook == "" || (keep != nil && !keep(key)) {
			return nil
		}
		if why, err := MergeProvenanceOf(h.Repo, c, id, h.Remediator); err != nil || why != "" {
			return err
		}
		if artifact.IsRollback(id) {
			rolledBack[strings.TrimSuffix(id, artifact.RollbackSuffix)] = true
			return nil
		}
		_, reverted := reverts[c.Hash]
		m := merge{commit: c, id: id, key: key, checkedAt: c.Committer.When, reverted: reverted}
		note, _, err := h.Repo.Note(OutcomeRef, c.Hash)
		if err != nil {
			return err
		}
		ev := ReadOutcome(note, c.Hash, h.Remediator)
		m.outcome = ev.Outcome
		m.checkedAt = checkedAt(ev.Body, c.Committer.When)
		switch {
		case rolledBack[id]:
			m.outcome = forge.OutcomeFailed
		case ev.Tampered != "":
			m.tampered = ev.Tampered
		case ev.Outcome == forge.OutcomeFailed && RecordDeleted(ev.Body):
			m.tampered, m.deleted = "a sealed record of its verification was deleted", true
		case ev.Outcome == "":
			why, err := DeletedRecordOf(h.Repo, w, c.Hash)
			if err != nil {
				return err
			}
			m.tampered, m.deleted = why, why != ""
			m.missing = why == "" && c.Committer.When.Before(h.Now.Add(-VerifyHorizon))
		}
		return fn(m)
	})
}

// checkedAt reads when an outcome was recorded from its note.
func checkedAt(body []byte, fallback time.Time) time.Time {
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "checked_at: "); ok {
			if t, err := time.Parse(time.RFC3339, strings.TrimSpace(v)); err == nil {
				return t
			}
		}
	}
	return fallback
}

// Failures lists when the runbook's merged remediations were recorded as failed,
// newest first, back to since: what its policy's circuit breaker counts. A merge whose
// outcome note is not the remediator's counts as failed: the breaker fails closed
// when its evidence was tampered with.
func (h History) Failures(runbook string, since time.Time) ([]time.Time, error) {
	var out []time.Time
	// merged long before the window: failed (if at all) before it too
	ofRunbook := func(k RecordKey) bool { return k.Runbook == runbook }
	err := h.merges(since.Add(-VerifyHorizon), ofRunbook, func(m merge) error {
		if m.outcome == forge.OutcomeFailed || m.tampered != "" {
			if !m.checkedAt.Before(since) {
				out = append(out, m.checkedAt)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failures of runbook %s: %w", runbook, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].After(out[j]) })
	return out, nil
}

// Suspended applies the policy's circuit breaker to a runbook: failures of its merged
// remediations within the window; when they reach the threshold the runbook is
// suspended for the cooldown after the last one. It returns why, or "".
func (h History) Suspended(rb *runbooks.Runbook, pol *runbooks.Policy) (string, error) {
	cb := pol.Spec.CircuitBreaker
	if cb.Failures <= 0 {
		return "", nil
	}
	failures, err := h.Failures(rb.Metadata.Name, h.Now.Add(-cb.Window.Std()))
	if err != nil {
		return "", err
	}
	until, tripped := cb.Trips(failures, h.Now)
	if !tripped {
		return "", nil
	}
	return fmt.Sprintf("circuit breaker of policy %s: %d failed remediation(s) of runbook %s within %s; suspended until %s",
		pol.Metadata.Name, len(failures), rb.Metadata.Name, cb.Window, until.UTC().Format(time.RFC3339)), nil
}
