package lifecycle

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// OutcomeRef holds the outcome notes of merged remediations.
const OutcomeRef = "refs/notes/remediation"

// OutcomeOf reads "outcome: X" from an outcome note.
func OutcomeOf(note []byte) forge.Outcome {
	for _, line := range strings.Split(string(note), "\n") {
		if v, ok := strings.CutPrefix(line, "outcome: "); ok {
			return forge.Outcome(strings.TrimSpace(v))
		}
	}
	return ""
}

// Failures lists when the runbook's merged remediations on the base were recorded as
// failed, newest first, back to since: what its policy's circuit breaker counts.
func Failures(repo *infrarepo.Repo, base, runbook string, since time.Time) ([]time.Time, error) {
	var out []time.Time
	err := repo.WalkFirstParent(base, func(c *object.Commit) error {
		if c.Committer.When.Before(since.Add(-verifyHorizon)) {
			return storer.ErrStop // merged long before the window: failed (if at all) before it too
		}
		if c.NumParents() < 2 || infrarepo.Trailers(c.Message)["Runbook"] != runbook {
			return nil
		}
		note, found, err := repo.Note(OutcomeRef, c.Hash)
		if err != nil || !found || OutcomeOf(note) != forge.OutcomeFailed {
			return err
		}
		at := c.Committer.When
		for _, line := range strings.Split(string(note), "\n") {
			if v, ok := strings.CutPrefix(line, "checked_at: "); ok {
				if t, err := time.Parse(time.RFC3339, strings.TrimSpace(v)); err == nil {
					at = t
				}
			}
		}
		if !at.Before(since) {
			out = append(out, at)
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].After(out[j]) })
	return out, nil
}

// Suspended applies the policy's circuit breaker to a runbook: failures of its merged
// remediations, counted from their outcome notes, within the window; when they reach
// the threshold the runbook is suspended for the cooldown after the last one. It
// returns why the runbook is suspended, or "".
func Suspended(repo *infrarepo.Repo, base string, rb *runbooks.Runbook, pol *runbooks.Policy, now time.Time) (string, error) {
	cb := pol.Spec.CircuitBreaker
	if cb.Failures <= 0 {
		return "", nil
	}
	failures, err := Failures(repo, base, rb.Metadata.Name, now.Add(-cb.Window.Std()))
	if err != nil {
		return "", err
	}
	until, tripped := cb.Trips(failures, now)
	if !tripped {
		return "", nil
	}
	return fmt.Sprintf("circuit breaker of policy %s: %d failed remediation(s) of runbook %s within %s; suspended until %s",
		pol.Metadata.Name, len(failures), rb.Metadata.Name, cb.Window, until.UTC().Format(time.RFC3339)), nil
}
