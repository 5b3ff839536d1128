// Package lifecycle moves proposals on: approvals counted for the exact head commit,
// the gates a merge must pass, the merge itself with its trailers, and the outcome
// recorded afterwards. This file holds the approvals of the local forge: git notes on
// the proposal's head commit under refs/notes/remediation-approvals, so an approval
// of one commit never counts for another.
package lifecycle

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ApprovalsRef holds the local forge's approvals.
const ApprovalsRef = "refs/notes/remediation-approvals"

// Approval is one person's approval of one commit.
type Approval struct {
	Name  string
	Email string
	At    time.Time
}

// identities are the names a required reviewer may be given as: the name (a login
// on GitHub), the email, and the email's local part.
func (a Approval) identities() []string {
	out := []string{a.Name}
	if a.Email != "" {
		out = append(out, a.Email, strings.Split(a.Email, "@")[0])
	}
	return out
}

// String is the approval as the merge commit's Approved-by trailer names it.
func (a Approval) String() string {
	if a.Email == "" {
		return a.Name
	}
	return fmt.Sprintf("%s <%s>", a.Name, a.Email)
}

func (a Approval) key() string {
	if a.Email != "" {
		return strings.ToLower(a.Email)
	}
	return strings.ToLower(a.Name)
}

// ParseApprovals reads an approvals note: one "approved: Name <email> TIME" per line.
// Lines that do not parse are ignored: a note is Git data, not trusted input.
func ParseApprovals(note []byte) []Approval {
	var out []Approval
	for _, line := range strings.Split(string(note), "\n") {
		rest, ok := strings.CutPrefix(line, "approved: ")
		if !ok {
			continue
		}
		lt, gt := strings.LastIndexByte(rest, '<'), strings.LastIndexByte(rest, '>')
		if lt <= 0 || gt < lt {
			continue
		}
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(rest[gt+1:]))
		if err != nil || at.IsZero() {
			continue
		}
		out = append(out, Approval{Name: strings.TrimSpace(rest[:lt]), Email: rest[lt+1 : gt], At: at})
	}
	return out
}

// AddApproval returns the note with the approval added, or unchanged when the person
// already approved this commit.
func AddApproval(note []byte, a Approval) []byte {
	for _, have := range ParseApprovals(note) {
		if have.key() == a.key() {
			return note
		}
	}
	line := fmt.Sprintf("approved: %s <%s> %s\n", oneLine(a.Name), oneLine(a.Email), a.At.UTC().Format(time.RFC3339))
	return append(append([]byte(nil), note...), line...)
}

// Counted is the approvals that count for a commit: distinct people, never the
// commit's author, never a bot. Ignored says why each other approval did not count.
func Counted(approvals []Approval, authorName, authorEmail string) (counted []Approval, ignored []string) {
	seen := map[string]bool{}
	for _, a := range approvals {
		switch {
		case a.Email != "" && strings.EqualFold(a.Email, authorEmail) || strings.EqualFold(a.Name, authorName):
			ignored = append(ignored, a.String()+": the proposal's author cannot approve it")
		case isBot(a):
			ignored = append(ignored, a.String()+": a bot's approval does not count")
		case seen[a.key()]:
			ignored = append(ignored, a.String()+": already counted")
		default:
			seen[a.key()] = true
			counted = append(counted, a)
		}
	}
	sort.SliceStable(counted, func(i, j int) bool { return counted[i].key() < counted[j].key() })
	return counted, ignored
}

func isBot(a Approval) bool {
	return strings.HasSuffix(strings.ToLower(a.Name), "[bot]") || strings.Contains(strings.ToLower(a.Email), "[bot]@")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("<", "", ">", "").Replace(s)), " ")
}
