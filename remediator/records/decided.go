package records

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// What the remediator saw is what it decided on (remediator/TRUST.md). Approvals
// and check reports live in notes anyone with push access can rewind, reorder or
// delete. So the merge the remediator signs names, by hash, each approval it counted
// and each check report that made a required check green: afterwards the notes can
// change, the record of what the merge was decided on cannot, and `audit verify`
// compares the two.

// DecidedOnTrailer is the trailer that names one piece of evidence.
const DecidedOnTrailer = "Decided-On"

// Evidence kinds a merge is decided on.
const (
	EvidenceApproval = "approval"
	EvidenceCheck    = "check"
)

// DecidedOn is one piece of evidence a deciding pass used: an approval or a check
// report, named by the hash of its note entry (its signature included).
type DecidedOn struct {
	Kind string
	// What says what it was: the principal of an approval; a check report's name,
	// state and reporter.
	What string
	Hash string
}

// String is the evidence as its trailer's value.
func (d DecidedOn) String() string { return d.Kind + " " + d.What + " " + d.Hash }

// EntryHash names a note entry: sha256 of its exact text.
func EntryHash(entry []byte) string {
	sum := sha256.Sum256(entry)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ParseDecidedOn reads a Decided-On trailer's value.
func ParseDecidedOn(v string) (DecidedOn, error) {
	f := strings.Fields(v)
	if len(f) < 3 || (f[0] != EvidenceApproval && f[0] != EvidenceCheck) || !strings.HasPrefix(f[len(f)-1], "sha256:") {
		return DecidedOn{}, fmt.Errorf("read %s %q: want \"approval|check <what> sha256:<hex>\"", DecidedOnTrailer, v)
	}
	return DecidedOn{Kind: f[0], What: strings.Join(f[1:len(f)-1], " "), Hash: f[len(f)-1]}, nil
}

// Decided is the evidence of the counted approvals and of the check reports.
func Decided(approvals []Approval, reports []CheckReport) []DecidedOn {
	var out []DecidedOn
	for _, a := range approvals {
		if a.Signature == nil {
			continue // a GitHub review: the remediator's sealed review record names it
		}
		out = append(out, DecidedOn{Kind: EvidenceApproval, What: a.Principal, Hash: EntryHash(a.Entry())})
	}
	for _, r := range reports {
		out = append(out, DecidedOn{Kind: EvidenceCheck, What: fmt.Sprintf("%s %s by %s", r.Name, r.State, r.By), Hash: EntryHash(r.Entry())})
	}
	return out
}

// DecidedTrailers spells the evidence as the merge commit's trailers.
func DecidedTrailers(ev []DecidedOn) string {
	var b strings.Builder
	for _, d := range ev {
		fmt.Fprintf(&b, "%s: %s\n", DecidedOnTrailer, d)
	}
	return b.String()
}

// Winners are the check reports that establish the named checks' states on commit:
// per check and reporter, the one Count lets win.
func (t CheckTrust) Winners(commit string, reports []CheckReport, names []string) []CheckReport {
	var out []CheckReport
	latest, _ := t.latest(commit, reports)
	for k, r := range latest {
		if slices.Contains(names, k.name) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b CheckReport) int {
		return strings.Compare(a.Name+" "+signing.Normalize(a.By), b.Name+" "+signing.Normalize(b.By))
	})
	return out
}

// Unmatched says, for each piece of sealed evidence the notes of the merged head no
// longer hold word for word, what it was: the note was rewound, reordered into
// something else, or the entry deleted.
func Unmatched(ev []DecidedOn, approvalsNote, checksNote []byte) []string {
	have := map[string]bool{}
	apps, _ := ParseApprovals(approvalsNote)
	for _, a := range apps {
		have[EntryHash(a.Entry())] = true
	}
	for _, r := range ParseChecks(checksNote) {
		have[EntryHash(r.Entry())] = true
	}
	var out []string
	for _, d := range ev {
		if !have[d.Hash] {
			out = append(out, fmt.Sprintf("%s %s (%s)", d.Kind, d.What, d.Hash[:len("sha256:")+12]))
		}
	}
	return out
}
