package records

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// Dates are claims (remediator/TRUST.md): anyone who may push to the base can give a
// commit any date. The only dates a walk of the base may stop on are those of the
// merges the remediator made, which its signature (or, on GitHub, its sealed record
// of the merge commit) covers, and which its own clock wrote.

// WalkSince calls fn for each commit of the base's first-parent line, newest first,
// down to the first merge the remediator made before since (zero: the whole line).
// A commit anyone else made stops nothing, whatever date it claims.
func WalkSince(repo *infrarepo.Repo, base string, since time.Time, remediator ssh.PublicKey, fn func(*object.Commit) error) error {
	err := repo.WalkFirstParent(base, func(c *object.Commit) error {
		if !since.IsZero() && c.Committer.When.Before(since) && OwnMerge(repo, c, remediator) {
			return storer.ErrStop
		}
		return fn(c)
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return err
	}
	return nil
}

// OwnMerge says whether c is a merge of a remediation the remediator made.
func OwnMerge(repo *infrarepo.Repo, c *object.Commit, remediator ssh.PublicKey) bool {
	id := infrarepo.Trailers(c.Message)["Remediation-Id"]
	if c.NumParents() < 2 || id == "" || remediator == nil {
		return false
	}
	why, err := MergeProvenanceOf(repo, c, id, remediator)
	return err == nil && why == ""
}

// LastMerged finds the newest merge of remediation id the remediator made, no older
// than since, on the base's first-parent line: the runbook's cooldown for the target
// starts there. Its date is the remediator's own; a merge by hand, or a commit that
// only carries the trailer, is not the remediator's and starts nothing.
func LastMerged(repo *infrarepo.Repo, base, id string, since time.Time, remediator ssh.PublicKey) (*object.Commit, error) {
	var found *object.Commit
	err := WalkSince(repo, base, since, remediator, func(c *object.Commit) error {
		if infrarepo.Trailers(c.Message)["Remediation-Id"] != id || !OwnMerge(repo, c, remediator) {
			return nil
		}
		if !c.Committer.When.Before(since) {
			found = c
		}
		return storer.ErrStop
	})
	if err != nil {
		return nil, fmt.Errorf("last merge of %s: %w", id, err)
	}
	return found, nil
}
