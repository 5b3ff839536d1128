package records

import (
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// MergesRef holds the remediator's intent to merge a proposal head, sealed, on the
// head commit: on GitHub the merge commit is GitHub's, so this record (written right
// before the merge call, after every gate passed) is what shows the merge was the
// remediator's. On the local forge the remediator signs the merge commit itself.
const MergesRef = "refs/notes/remediation-merges"

// MergeProvenance says whether the remediator made a merge: its signature on the merge
// commit, or its sealed record binding this merge of this remediation id (parents and
// tree). intent reads the MergesRef note of a commit (the merge, then its head), only
// when the merge commit is not signed. It returns why not, or "". Only the remediator's merges are
// verified and count for a runbook's record: a merge made by hand is people's own
// process, whatever its trailers say.
func MergeProvenance(merge *object.Commit, id string, intent func(head plumbing.Hash) ([]byte, error), remediator ssh.PublicKey) (string, error) {
	if remediator == nil {
		return "no remediator key to check the merge against", nil
	}
	if signing.VerifyCommit(merge, remediator) == nil {
		return "", nil
	}
	// A record binds the merge's parents and tree, not only its head (merge_intent.go).
	if ok, err := sealedMerge(merge, id, intent, remediator); err != nil || ok {
		return "", err
	}
	return "the merge commit is not signed by the remediator, and no merge record of the remediator binds its parents and tree: merged by hand", nil
}

// Evidence is what the outcome note of a merge proves.
type Evidence struct {
	// Outcome is the outcome the remediator sealed; "" when there is none.
	Outcome forge.Outcome
	// Body is the sealed note's text.
	Body []byte
	// Tampered says why a note that is there is not the remediator's record: it
	// proves nothing, and the evidence it may have replaced is gone.
	Tampered string
}

// ReadOutcome reads a merge's outcome note: only what the remediator sealed counts.
func ReadOutcome(note []byte, merge plumbing.Hash, remediator ssh.PublicKey) Evidence {
	if note == nil {
		return Evidence{}
	}
	body, err := Unseal(note, KindOutcome, merge, remediator)
	if err != nil {
		return Evidence{Tampered: "outcome note " + err.Error()}
	}
	return Evidence{Outcome: OutcomeOf(body), Body: body}
}

// ReadProgress reads a merge's verification progress; a note the remediator did not
// seal is no progress at all (verification starts over rather than believe a
// forged "applied_at").
func ReadProgress(note []byte, merge plumbing.Hash, remediator ssh.PublicKey) Progress {
	body, err := Unseal(note, KindProgress, merge, remediator)
	if err != nil {
		return Progress{}
	}
	return ParseProgress(body)
}

// MergeProvenanceOf is MergeProvenance of a merge in repo, reading its intent record.
func MergeProvenanceOf(repo *infrarepo.Repo, c *object.Commit, id string, remediator ssh.PublicKey) (string, error) {
	return MergeProvenance(c, id, func(head plumbing.Hash) ([]byte, error) {
		note, _, err := repo.Note(MergesRef, head)
		return note, err
	}, remediator)
}
