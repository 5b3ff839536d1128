package audit

import (
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// mergeProvenance is why a merge is not the remediator's, or "": its signature on
// the merge commit (local forge), or its sealed record binding the merge's parents
// and tree, on the merge commit or on its head (GitHub).
func mergeProvenance(merge *object.Commit, e *Entry, remediator ssh.PublicKey) string {
	read := func(c plumbing.Hash) ([]byte, error) {
		if c == merge.Hash {
			return e.mergedRecord, nil
		}
		return e.mergeIntent, nil
	}
	reason, err := records.MergeProvenance(merge, e.ID, read, remediator)
	if err != nil {
		return err.Error()
	}
	return reason
}

// scopeEntry is the entry whose artifact the merge's scope is judged by: the
// artifact of the head the remediator made and sealed, never the one in the merge's
// own tree (which a merge by hand can rewrite). A merge whose artifact differs from
// its head's is a finding of its own.
func scopeEntry(head *object.Commit, e *Entry, add func(kind, format string, args ...any)) *Entry {
	f, err := head.File(artifact.Path(e.ID))
	if err != nil {
		add(FindingScope, "the merged head %s carries no artifact %s: %v", e.Head[:12], artifact.Path(e.ID), err)
		return e
	}
	data, err := f.Contents()
	if err != nil {
		add(FindingScope, "read the merged head's artifact: %v", err)
		return e
	}
	a, err := artifact.Decode([]byte(data))
	if err != nil {
		add(FindingScope, "the merged head's artifact: %v", err)
		return e
	}
	if ours, _ := e.art.Encode(); string(ours) != data {
		if theirs, _ := a.Encode(); string(ours) != string(theirs) {
			add(FindingScope, "the merge's artifact %s differs from its head's", artifact.Path(e.ID))
		}
	}
	c := *e
	c.art = a
	return &c
}
