package lifecycle

import (
	"errors"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// OutcomeRef holds the outcome notes of merged remediations.
const OutcomeRef = "refs/notes/remediation"

// Outcome values recorded in the note.
const (
	Verified = "verified"
	Failed   = "failed"
)

// OutcomeOf reads "outcome: X" from an outcome note.
func OutcomeOf(note []byte) string {
	for _, line := range strings.Split(string(note), "\n") {
		if v, ok := strings.CutPrefix(line, "outcome: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// VerifiedRuns counts the runbook's merges on the base whose outcome note says
// verified: what earns a runbook auto-merge.
func VerifiedRuns(repo *infrarepo.Repo, base, runbook string) (int, error) {
	n := 0
	err := repo.WalkFirstParent(base, func(c *object.Commit) error {
		if c.NumParents() < 2 || infrarepo.Trailers(c.Message)["Runbook"] != runbook {
			return nil
		}
		note, found, err := repo.Note(OutcomeRef, c.Hash)
		if err != nil {
			return err
		}
		if found && OutcomeOf(note) == Verified {
			n++
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return 0, err
	}
	return n, nil
}
