package records

import (
	"regexp"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// VerifyHorizon bounds how far back a pass looks for merges without an outcome: a
// merge older than it with no outcome is one nobody verified (the record reads it
// as missing).
const VerifyHorizon = 7 * 24 * time.Hour

// revertsRE finds the merge `git revert` names in its message.
var revertsRE = regexp.MustCompile(`This reverts commit ([0-9a-f]{40})`)

// RevertedBy adds to reverts the merges c reverts, by the message of c and, for a
// merge, of the head it merged (GitHub's revert pull request is one commit).
func RevertedBy(repo *infrarepo.Repo, c *object.Commit, reverts map[plumbing.Hash]plumbing.Hash) {
	msgs := []string{c.Message}
	for _, p := range c.ParentHashes[min(1, len(c.ParentHashes)):] {
		if side, err := repo.Commit(p); err == nil {
			msgs = append(msgs, side.Message)
		}
	}
	for _, msg := range msgs {
		for _, m := range revertsRE.FindAllStringSubmatch(msg, -1) {
			if _, ok := reverts[plumbing.NewHash(m[1])]; !ok {
				reverts[plumbing.NewHash(m[1])] = c.Hash
			}
		}
	}
}
