package records

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// On GitHub the merge commit is GitHub's, so what shows a merge was the
// remediator's is its sealed word, and that word binds the whole merge: the
// remediation, the base it merged into (first parent), the head (second parent) and
// the tree that resulted. A merge by hand of a head the remediator meant to merge,
// with anything more in its tree or onto another base, is not the remediator's.
// Two records under MergesRef say so:
//   - the intent, on the head, sealed right before the merge call, with the base and
//     tree the remediator computed (KindMerge);
//   - the merged record, on the merge commit GitHub's answer to the remediator's own
//     merge call named, with its actual parents and tree (KindMerged): it covers a
//     base that moved between the two.

// KindMerged is the record of a merge the remediator's own merge call made.
const KindMerged RecordKind = "merged"

// MergeRecordBody is the text of either record.
func MergeRecordBody(id string, base, head, tree plumbing.Hash) string {
	return fmt.Sprintf("merge %s\nbase %s\nhead %s\ntree %s\n", id, base, head, tree)
}

// bindsMerge says whether a record's body names exactly this merge of id.
func bindsMerge(body []byte, id string, merge *object.Commit) bool {
	if merge.NumParents() != 2 {
		return false
	}
	want := MergeRecordBody(id, merge.ParentHashes[0], merge.ParentHashes[1], merge.TreeHash)
	return strings.TrimSpace(string(body)) == strings.TrimSpace(want)
}

// SealMergeIntent seals the intent to merge head into base with the given tree.
func SealMergeIntent(k *signing.Key, id string, base, head, tree plumbing.Hash) ([]byte, error) {
	return Seal(k, KindMerge, head, MergeRecordBody(id, base, head, tree))
}

// SealMerged seals the record of the merge commit the remediator's merge call made.
func SealMerged(k *signing.Key, id string, merge *object.Commit) ([]byte, error) {
	if merge.NumParents() != 2 {
		return nil, fmt.Errorf("merge %s of %s has %d parents, not 2", merge.Hash, id, merge.NumParents())
	}
	return Seal(k, KindMerged, merge.Hash, MergeRecordBody(id, merge.ParentHashes[0], merge.ParentHashes[1], merge.TreeHash))
}

// sealedMerge says whether a record of the remediator's binds the merge: the merged
// record on the merge commit, or the intent on its head. read reads the MergesRef
// note of a commit.
func sealedMerge(merge *object.Commit, id string, read func(plumbing.Hash) ([]byte, error), remediator ssh.PublicKey) (bool, error) {
	if merge.NumParents() != 2 {
		return false, nil
	}
	for _, r := range []struct {
		kind   RecordKind
		commit plumbing.Hash
	}{{KindMerged, merge.Hash}, {KindMerge, merge.ParentHashes[1]}} {
		note, err := read(r.commit)
		if err != nil {
			return false, err
		}
		if body, err := Unseal(note, r.kind, r.commit, remediator); err == nil && bindsMerge(body, id, merge) {
			return true, nil
		}
	}
	return false, nil
}
