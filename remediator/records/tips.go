package records

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// Deleting records is visible (remediator/TRUST.md): anyone who may push the notes
// refs can delete a sealed record, and a deleted record is no record at all. So each
// merge the remediator signs commits, in its trailers, to the tips of the refs of its
// sealed records as they stood; the base's first-parent line is protected, so a
// record one of those tips held and the ref no longer holds was deleted.

// tipTrailers name the refs a signed merge commits to, and the trailer of each.
var tipTrailers = []struct{ Ref, Trailer string }{
	{OutcomeRef, "Records-Outcome"},
	{ProgressRef, "Records-Progress"},
	{RejectionsRef, "Records-Rejections"},
	{EvidenceRef, "Records-Evidence"},
}

// RecordTips are the tips of the sealed records refs, by ref.
type RecordTips map[string]plumbing.Hash

// CurrentTips are the records refs' tips as last fetched.
func CurrentTips(infra *infrarepo.Repo) RecordTips {
	tips := RecordTips{}
	for _, t := range tipTrailers {
		if h, ok := infra.Tip(t.Ref); ok {
			tips[t.Ref] = h
		}
	}
	return tips
}

// Trailers are the merge message's trailer lines for the tips.
func (tips RecordTips) Trailers() string {
	var b strings.Builder
	for _, t := range tipTrailers {
		if h, ok := tips[t.Ref]; ok {
			fmt.Fprintf(&b, "%s: %s\n", t.Trailer, h)
		}
	}
	return b.String()
}

// TipsOf reads the tips a merge message commits to (none: a merge made before
// merges committed to them, or not the remediator's).
func TipsOf(message string) RecordTips {
	tr := infrarepo.Trailers(message)
	tips := RecordTips{}
	for _, t := range tipTrailers {
		if v := tr[t.Trailer]; len(v) == 40 {
			tips[t.Ref] = plumbing.NewHash(v)
		}
	}
	return tips
}

// NotedIn lists the objects the notes commit notesHead has a note on.
func NotedIn(s storer.EncodedObjectStorer, notesHead plumbing.Hash) (map[plumbing.Hash]bool, error) {
	out := map[plumbing.Hash]bool{}
	if notesHead.IsZero() {
		return out, nil
	}
	c, err := object.GetCommit(s, notesHead)
	if err != nil {
		return nil, fmt.Errorf("read notes %s: %w", notesHead, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read notes %s: %w", notesHead, err)
	}
	err = tree.Files().ForEach(func(f *object.File) error {
		if name := strings.ReplaceAll(f.Name, "/", ""); len(name) == 40 {
			out[plumbing.NewHash(name)] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list notes %s: %w", notesHead, err)
	}
	return out, nil
}

// DeletedRecord is a sealed record a signed merge committed to that is gone.
type DeletedRecord struct {
	Ref string
	// Object is what the record was about: a merge, or a rejection's key.
	Object plumbing.Hash
	// Merge is the signed merge whose trailers committed to it.
	Merge plumbing.Hash
}

// Witness holds the tips the remediator's signed merges committed to, to tell
// whether a record was there once. The records refs only grow: a tip a merge
// committed to that the ref's history no longer holds (rewound by a force push, or
// gone from the clone) may have held anything, so every record it could have held
// counts as deleted.
type Witness struct {
	s       storer.EncodedObjectStorer
	current RecordTips
	tips    []witnessed
	// history is, per ref, the notes commits its current tip reaches (read once).
	history map[string]map[plumbing.Hash]bool
}

type witnessed struct {
	merge plumbing.Hash
	tips  RecordTips
}

// NewWitness reads tips from s, against the refs' current tips.
func NewWitness(s storer.EncodedObjectStorer, current RecordTips) *Witness {
	return &Witness{s: s, current: current, history: map[string]map[plumbing.Hash]bool{}}
}

// Add takes the tips a merge commits to; the caller has checked the merge is the
// remediator's (its signature), since anyone can write trailers.
func (w *Witness) Add(merge plumbing.Hash, tips RecordTips) {
	if len(tips) > 0 {
		w.tips = append(w.tips, witnessed{merge, tips})
	}
}

// intact says whether the ref's history still holds head.
func (w *Witness) intact(ref string, head plumbing.Hash) bool {
	reached, ok := w.history[ref]
	if !ok {
		reached = map[plumbing.Hash]bool{}
		for next := []plumbing.Hash{w.current[ref]}; len(next) > 0; {
			h := next[len(next)-1]
			next = next[:len(next)-1]
			if h.IsZero() || reached[h] {
				continue
			}
			c, err := object.GetCommit(w.s, h)
			if err != nil {
				continue // a gap in the notes history: what lies behind it is not held
			}
			reached[h] = true
			next = append(next, c.ParentHashes...)
		}
		w.history[ref] = reached
	}
	return reached[head]
}

// Held says which signed merge committed to a record on obj under ref, if any:
// one whose tip held it, or whose tip the ref was rewound past.
func (w *Witness) Held(ref string, obj plumbing.Hash) (plumbing.Hash, bool, error) {
	seen := map[plumbing.Hash]bool{}
	for _, t := range w.tips {
		head, ok := t.tips[ref]
		if !ok || seen[head] {
			continue
		}
		seen[head] = true
		if !w.intact(ref, head) {
			return t.merge, true, nil
		}
		_, found, err := infrarepo.NoteIn(w.s, head, obj)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if found {
			return t.merge, true, nil
		}
	}
	return plumbing.ZeroHash, false, nil
}

// Rewound lists the signed merges whose tip of a records ref the ref's history no
// longer holds: records were deleted by rewinding it.
func (w *Witness) Rewound() []DeletedRecord {
	var out []DeletedRecord
	for _, t := range tipTrailers {
		for _, wt := range w.tips {
			if head, ok := wt.tips[t.Ref]; ok && !w.intact(t.Ref, head) {
				out = append(out, DeletedRecord{Ref: t.Ref, Merge: wt.merge})
			}
		}
	}
	return out
}

// Deleted lists every record a committed tip held that the current tips do not.
func (w *Witness) Deleted() ([]DeletedRecord, error) {
	current := w.current
	var out []DeletedRecord
	for _, t := range tipTrailers {
		now, err := NotedIn(w.s, current[t.Ref])
		if err != nil {
			return nil, err
		}
		reported := map[plumbing.Hash]bool{}
		checked := map[plumbing.Hash]bool{}
		for _, wt := range w.tips {
			head, ok := wt.tips[t.Ref]
			if !ok || checked[head] {
				continue
			}
			checked[head] = true
			if !w.intact(t.Ref, head) {
				continue // Rewound reports it
			}
			then, err := NotedIn(w.s, head)
			if err != nil {
				return nil, err
			}
			for obj := range then {
				if !now[obj] && !reported[obj] {
					reported[obj] = true
					out = append(out, DeletedRecord{Ref: t.Ref, Object: obj, Merge: wt.merge})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Ref != out[j].Ref {
			return out[i].Ref < out[j].Ref
		}
		return out[i].Object.String() < out[j].Object.String()
	})
	return out, nil
}

// RecordDeletedLine marks a sealed outcome the remediator recorded failed because a
// sealed record of the merge's verification had been deleted.
const RecordDeletedLine = "record_deleted"

// RecordDeleted says whether a sealed outcome's body is such a failure.
func RecordDeleted(body []byte) bool {
	return strings.Contains("\n"+string(body), "\n"+RecordDeletedLine+": true\n")
}

// AddSigned gives the witness a merge's tips when the remediator's key signed it.
func (w *Witness) AddSigned(c *object.Commit, key ssh.PublicKey) {
	tips := TipsOf(c.Message)
	if len(tips) > 0 && key != nil && signing.VerifyCommit(c, key) == nil {
		w.Add(c.Hash, tips)
	}
}

// DeletedRecordOf says why a merge without an outcome lost a sealed record of its
// verification (its outcome or its progress) that a later signed merge committed
// to, or "".
func DeletedRecordOf(infra *infrarepo.Repo, w *Witness, merge plumbing.Hash) (string, error) {
	for _, ref := range []string{OutcomeRef, ProgressRef} {
		if _, found, err := infra.Note(ref, merge); err != nil || found {
			if err != nil {
				return "", err
			}
			continue
		}
		by, held, err := w.Held(ref, merge)
		if err != nil || !held {
			if err != nil {
				return "", err
			}
			continue
		}
		return fmt.Sprintf("a sealed record of its verification (%s) was deleted: the signed merge %s committed to records that held it", ref, by.String()[:12]), nil
	}
	return "", nil
}
