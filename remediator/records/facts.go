package records

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// Facts are what the forge knows about a proposal beyond its approvals: the checks
// reported on a commit and who belongs to which team.
type Facts interface {
	Checks(ctx context.Context, sha string) (map[string]forge.CheckState, error)
	TeamMember(ctx context.Context, team, login string) (bool, error)
}

// ChecksRef holds the local forge's check reports: one note per commit, one entry per
// report, the last counted report of a name winning. CI appends to it with
// `remediator applied` and `remediator plan-check --comment`, each report signed with
// CI's own key: a note is Git data anyone with push access can write, so a report
// counts only when a key the allowed-signers file lists for a principal of
// forge.check_reporters signed it.
const ChecksRef = "refs/notes/remediation-checks"

// CheckReport is one report of a check's state on a commit.
type CheckReport struct {
	Name  string
	State forge.CheckState
	// By is the reporter's principal and At when it reported; both empty in an
	// unsigned report ("<state> <name>"), which never counts.
	By string
	At time.Time
	// Signature is the armored SSH signature over Payload(commit).
	Signature []byte
}

// Payload is what a report on a commit signs: a report of one commit is worthless
// for any other, and its state and name cannot be changed.
func (r CheckReport) Payload(commit string) []byte {
	return fmt.Appendf(nil, "remediation check v1\ncommit %s\ncheck %s\nstate %s\nby %s\nat %s\n",
		commit, r.Name, r.State, r.By, r.At.UTC().Format(reportTime))
}

// reportTime is a report's signed time to the millisecond: a re-run that turns a check
// green in the same second as its failure must be newer, or the tie goes to the
// failure. A whole second prints as before, so older reports verify unchanged.
const reportTime = "2006-01-02T15:04:05.999Z07:00"

// Entry is the report as the checks note holds it.
func (r CheckReport) Entry() []byte {
	name := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(r.Name, "\r", " "), "\n", " "))
	if r.Signature == nil {
		return []byte(string(r.State) + " " + name + "\n")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s by %s at %s\n", r.State, name, r.By, r.At.UTC().Format(reportTime))
	b.Write(bytes.TrimSpace(r.Signature))
	b.WriteByte('\n')
	return b.Bytes()
}

// SignCheck makes a signed report of a check on commit by principal, CI's identity
// in the allowed-signers file.
func SignCheck(k *signing.Key, commit, name string, state forge.CheckState, principal string, at time.Time) (CheckReport, error) {
	r := CheckReport{Name: strings.TrimSpace(name), State: state, By: strings.TrimSpace(principal), At: at.UTC().Truncate(time.Millisecond)}
	if r.By == "" || strings.ContainsAny(r.By, " \t\r\n") {
		return CheckReport{}, fmt.Errorf("reporter %q: want one word, a principal of the allowed-signers file", principal)
	}
	if r.Name == "" || strings.ContainsAny(r.Name, "\r\n") {
		return CheckReport{}, fmt.Errorf("check name %q: want one line", name)
	}
	sig, err := k.Sign(r.Payload(commit), signing.NamespaceCheck)
	if err != nil {
		return CheckReport{}, err
	}
	r.Signature = sig
	return r, nil
}

// ParseChecks reads a checks note's reports in order; lines that are neither a
// report header nor its signature are skipped. Nothing read is believed before Count.
func ParseChecks(note []byte) []CheckReport {
	var out []CheckReport
	lines := strings.Split(string(note), "\n")
	for i := 0; i < len(lines); i++ {
		r, ok := parseCheckHeader(lines[i])
		if !ok {
			continue
		}
		if r.By != "" && i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == sigBegin {
			// The block ends at its END line; a line that cannot be armor ends a
			// truncated one there, so it never swallows the reports after it.
			var sig bytes.Buffer
			j := i + 1
			for ; j < len(lines); j++ {
				line := strings.TrimSpace(lines[j])
				if j > i+1 && line != sigEnd && !isArmor(line) {
					break
				}
				sig.WriteString(line + "\n")
				if line == sigEnd {
					r.Signature = sig.Bytes()
					break
				}
			}
			if r.Signature != nil {
				i = j
			} else {
				i = j - 1
			}
		}
		out = append(out, r)
	}
	return out
}

// isArmor says whether a line can be part of an armored signature's base64 body.
func isArmor(line string) bool {
	const armor = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	return line != "" && strings.Trim(line, armor) == ""
}

// parseCheckHeader reads "<state> <name>" or "<state> <name> by <principal> at <time>".
func parseCheckHeader(line string) (CheckReport, bool) {
	// The line is trimmed, so a name is empty exactly when there is none.
	state, name, _ := strings.Cut(strings.TrimSpace(line), " ")
	name = strings.TrimSpace(name)
	r := CheckReport{State: forge.CheckState(state)}
	switch r.State {
	case forge.CheckSuccess, forge.CheckPending, forge.CheckFailure:
	default:
		return r, false
	}
	if name == "" {
		return r, false
	}
	r.Name = name
	if rest, at, ok := cutLast(name, " at "); ok {
		// No " by " leaves by empty: no reporter.
		if n, by, _ := cutLast(rest, " by "); by != "" && !strings.ContainsAny(by, " \t") && strings.TrimSpace(n) != "" {
			if t, err := time.Parse(time.RFC3339, at); err == nil {
				r.Name, r.By, r.At = strings.TrimSpace(n), by, t
			}
		}
	}
	return r, true
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// AddCheck appends one report to a checks note.
func AddCheck(note []byte, r CheckReport) []byte {
	s := string(note)
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return append([]byte(s), r.Entry()...)
}

// CheckTrust is who may report checks on the local forge.
type CheckTrust struct {
	// Signers is the allowed-signers file with the reporters' keys.
	Signers *signing.AllowedSigners
	// Reporters are the principals whose signed reports count (forge.check_reporters).
	Reporters []string
	// Now is when a reporter's key must be valid: the pass's clock, never the time a
	// report claims (a retired key could sign a report dated inside its old window).
	Now time.Time
}

// Reports says whether principal is one whose signed reports count.
func (t CheckTrust) Reports(principal string) bool {
	return slices.ContainsFunc(t.Reporters, func(p string) bool { return signing.SameIdentity(p, principal) })
}

// Count is the state of each check the reports establish. Per check and reporter the
// report with the newest signed time counts, whatever the note's order (anyone with
// push access can reorder a note, nobody but the reporter can sign a time); a tie
// goes to the worse state. Between reporters the worse state wins: a failure any
// reporter stands by is a failure. Ignored says why each other report did not count.
func (t CheckTrust) Count(commit string, reports []CheckReport) (states map[string]forge.CheckState, ignored []string) {
	latest, ignored := t.latest(commit, reports)
	states = map[string]forge.CheckState{}
	for k, r := range latest {
		if old, ok := states[k.name]; !ok || severity(r.State) > severity(old) {
			states[k.name] = r.State
		}
	}
	return states, ignored
}

// reportKey is one check as one reporter reports it.
type reportKey struct{ name, by string }

// latest is, per check and reporter, the counted report with the newest signed time
// (a tie goes to the worse state), and why each other report did not count.
func (t CheckTrust) latest(commit string, reports []CheckReport) (map[reportKey]CheckReport, []string) {
	latest := map[reportKey]CheckReport{}
	var ignored []string
	for _, r := range reports {
		if why := t.refuse(commit, r); why != "" {
			ignored = append(ignored, r.Name+": "+why)
			continue
		}
		k := reportKey{r.Name, signing.Normalize(r.By)}
		if old, ok := latest[k]; ok && (old.At.After(r.At) || (old.At.Equal(r.At) && severity(old.State) >= severity(r.State))) {
			continue
		}
		latest[k] = r
	}
	return latest, ignored
}

// severity orders check states from green to failed.
func severity(s forge.CheckState) int {
	switch s {
	case forge.CheckSuccess:
		return 0
	case forge.CheckPending:
		return 1
	}
	return 2
}

func (t CheckTrust) refuse(commit string, r CheckReport) string {
	if r.Signature == nil {
		return "unsigned report (CI signs it: remediator applied/plan-check --comment --key)"
	}
	if !t.Reports(r.By) {
		return fmt.Sprintf("reported by %s, who is not in forge.check_reporters", r.By)
	}
	if t.Signers == nil {
		return "no allowed-signers file to check the reporter's key (forge.allowed_signers_file)"
	}
	key, err := t.Signers.VerifyPerson(r.Payload(commit), r.Signature, r.By, signing.NamespaceCheck, t.Now)
	if err != nil {
		return err.Error()
	}
	for _, p := range t.Signers.PrincipalsOf(key) {
		if !t.Reports(p) {
			return fmt.Sprintf("signed with a key the allowed-signers file also lists for %s: a reviewer's key never reports a check", p)
		}
	}
	return ""
}

// RecordCheck appends a check report to the commit's checks note and pushes it.
func RecordCheck(ctx context.Context, infra *infrarepo.Repo, sha plumbing.Hash, r CheckReport, by object.Signature) error {
	_, err := infra.UpdateNote(ctx, ChecksRef, sha, "check "+r.Name, by, func(old []byte) ([]byte, error) {
		return AddCheck(old, r), nil
	})
	if err != nil {
		return fmt.Errorf("record check %s: %w", r.Name, err)
	}
	return nil
}

// NewLocalFacts are the local forge's facts: checks from the checks note (counted
// under trust), teams from the configuration.
func NewLocalFacts(infra *infrarepo.Repo, teams map[string][]string, trust CheckTrust) Facts {
	return localFacts{infra: infra, teams: teams, trust: trust}
}

// localFacts are the local forge's: checks from the checks note, teams from the
// configuration (a plain Git server has no organisation to ask).
type localFacts struct {
	infra *infrarepo.Repo
	teams map[string][]string
	trust CheckTrust
}

func (f localFacts) Checks(_ context.Context, sha string) (map[string]forge.CheckState, error) {
	reports, err := LocalReports(f.infra, plumbing.NewHash(sha))
	if err != nil {
		return nil, err
	}
	states, _ := f.trust.Count(sha, reports)
	return states, nil
}

func (f localFacts) TeamMember(_ context.Context, team, who string) (bool, error) {
	members, ok := f.teams[team]
	if !ok {
		return false, fmt.Errorf("team %s is not declared under forge.teams in the configuration (the local forge has no organisation to ask)", team)
	}
	for _, m := range members {
		if signing.SameIdentity(m, who) {
			return true, nil
		}
	}
	return false, nil
}
