// This file holds the approvals record: git notes on the proposal's head commit
// under refs/notes/remediation-approvals, one signed entry per approval, so an
// approval of one commit never counts for another and nobody can write one in
// someone else's name.

package records

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// ApprovalsRef holds the approvals of proposal heads.
const ApprovalsRef = "refs/notes/remediation-approvals"

// How an approval was given.
const (
	// ViaSSH: a reviewer signed it with their own key (the local forge); it counts
	// only when the allowed-signers file lists that key for the principal.
	ViaSSH = "ssh"
	// ViaForge: the remediator's record of a review it counted on the configured
	// forge (GitHub, Gitea, GitLab), signed with the remediator's own key.
	ViaForge = "forge"
	// viaGitHub is what ViaForge was written as before Gitea and GitLab: records
	// already in notes keep their meaning and their signatures.
	viaGitHub = "github"
)

// Approval is one identity's approval of one commit.
type Approval struct {
	// Principal is who approved: a principal of the allowed-signers file, or a
	// GitHub login.
	Principal string
	Via       string
	At        time.Time
	// Signature is the armored SSH signature over Payload(commit).
	Signature []byte
}

// Payload is what an approval of a commit signs: the commit, who, how and when.
// A signature over one commit's payload is worthless for any other commit.
func (a Approval) Payload(commit string) []byte {
	return fmt.Appendf(nil, "remediation approval v1\ncommit %s\nprincipal %s\nvia %s\nat %s\n",
		commit, a.Principal, a.Via, a.At.UTC().Format(time.RFC3339))
}

// Is says whether the approval is by name: its principal, spelled the one way
// every identity is compared (signing.Normalize). Nothing else matches: a required
// reviewer "lead" is not lead@vendor.example, who may be anyone.
func (a Approval) Is(name string) bool { return signing.SameIdentity(a.Principal, name) }

// String is the approval as the merge commit's Approved-by trailer names it.
func (a Approval) String() string { return a.Principal }

const sigBegin, sigEnd = "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----"

// ParseApprovals reads an approvals note: entries "approval: PRINCIPAL via VIA at
// TIME" each followed by its armored signature. Anything else (a hand-written
// line, a truncated entry) is returned in unreadable: a note is Git data anyone
// with push access can write, so nothing in it is believed before Verify.
func ParseApprovals(note []byte) (out []Approval, unreadable []string) {
	lines := strings.Split(string(note), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" {
			continue
		}
		a, ok := parseHeader(line)
		if !ok {
			unreadable = append(unreadable, clip(line))
			continue
		}
		// The signature block follows the header.
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != sigBegin {
			unreadable = append(unreadable, a.Principal+": unsigned approval")
			out = append(out, a)
			continue
		}
		var sig bytes.Buffer
		j := i + 1
		for ; j < len(lines); j++ {
			sig.WriteString(strings.TrimSpace(lines[j]) + "\n")
			if strings.TrimSpace(lines[j]) == sigEnd {
				break
			}
		}
		if j == len(lines) {
			unreadable = append(unreadable, a.Principal+": truncated signature")
			break
		}
		a.Signature = sig.Bytes()
		out = append(out, a)
		i = j
	}
	return out, unreadable
}

func parseHeader(line string) (Approval, bool) {
	rest, ok := strings.CutPrefix(line, "approval: ")
	if !ok {
		return Approval{}, false
	}
	who, rest, ok := strings.Cut(rest, " via ")
	if !ok {
		return Approval{}, false
	}
	via, at, ok := strings.Cut(rest, " at ")
	if !ok {
		return Approval{}, false
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(at))
	who, via = strings.TrimSpace(who), strings.TrimSpace(via)
	if err != nil || who == "" || strings.ContainsAny(who, " \t") || (via != ViaSSH && via != ViaForge && via != viaGitHub) {
		return Approval{}, false
	}
	return Approval{Principal: who, Via: via, At: t}, true
}

func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return "unreadable entry " + fmt.Sprintf("%q", s)
}

// Entry is the note text of one signed approval.
func (a Approval) Entry() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "approval: %s via %s at %s\n", a.Principal, a.Via, a.At.UTC().Format(time.RFC3339))
	b.Write(bytes.TrimSpace(a.Signature))
	b.WriteByte('\n')
	return b.Bytes()
}

// AddApproval returns the note with the approval added, replacing an earlier entry
// of the same principal given the same way.
func AddApproval(note []byte, a Approval) []byte {
	have, _ := ParseApprovals(note)
	var b bytes.Buffer
	for _, h := range have {
		same := signing.SameIdentity(h.Principal, a.Principal) && way(h.Via) == way(a.Via)
		if h.Signature != nil && !same {
			b.Write(h.Entry())
		}
	}
	b.Write(a.Entry())
	return b.Bytes()
}

// way is how an approval was given, the older name of a forge's record read as the
// one it is now.
func way(via string) string {
	if via == viaGitHub {
		return ViaForge
	}
	return via
}

// Sign makes a signed approval of commit by principal.
func Sign(k *signing.Key, commit, principal, via string, at time.Time) (Approval, error) {
	a := Approval{Principal: strings.TrimSpace(principal), Via: via, At: at.UTC().Truncate(time.Second)}
	if a.Principal == "" || strings.ContainsAny(a.Principal, " \t\r\n") {
		return Approval{}, fmt.Errorf("principal %q: want one word, as in the allowed-signers file", principal)
	}
	sig, err := k.Sign(a.Payload(commit), signing.NamespaceApproval)
	if err != nil {
		return Approval{}, err
	}
	a.Signature = sig
	return a, nil
}

// Trust is what an approval is checked against.
type Trust struct {
	// Reviewers lists the reviewers' keys (the local forge); nil means none is known.
	Reviewers *signing.AllowedSigners
	// Remediator is the remediator's own public key, which signs its record of
	// GitHub reviews.
	Remediator ssh.PublicKey
	// AcceptForge counts the remediator's records of the reviews it counted on a
	// forge with reviews (GitHub, Gitea, GitLab); never on the local forge.
	AcceptForge bool
	// Excluded are identities that never approve: the proposal's author (the
	// remediator), and on GitHub whoever pushed to the branch.
	Excluded []string
	// Reporters are the principals of forge.check_reporters: a reporter is not a
	// reviewer, so neither they nor a key listed for them approves.
	Reporters []string
	// Now is when the keys must be valid: the pass's own clock, never the time an
	// approval claims.
	Now time.Time
}

// Counted is the approvals of a commit that count: validly signed by a known key for
// the principal they name, distinct, never an excluded identity, never a bot. A
// person is a key: approvals signed with one key count once, however many principals
// the allowed-signers file lists it for. Ignored says why each other entry did not
// count.
func Counted(commit string, approvals []Approval, t Trust) (counted []Approval, ignored []string) {
	seen := map[string]bool{}
	for _, a := range approvals {
		reason, person := t.refuse(commit, a)
		if reason != "" {
			ignored = append(ignored, a.Principal+": "+reason)
			continue
		}
		if seen[person] || seen[signing.Normalize(a.Principal)] {
			ignored = append(ignored, a.Principal+": already counted (one person, one approval: the same key or principal approved already)")
			continue
		}
		seen[person], seen[signing.Normalize(a.Principal)] = true, true
		counted = append(counted, a)
	}
	sort.SliceStable(counted, func(i, j int) bool {
		return signing.Normalize(counted[i].Principal) < signing.Normalize(counted[j].Principal)
	})
	return counted, ignored
}

// refuse returns why an approval does not count, or "" and who it is: the key's
// fingerprint for a signed approval, the account for a GitHub review.
func (t Trust) refuse(commit string, a Approval) (reason, person string) {
	if a.Signature == nil {
		return "unsigned approval (sign it with `remediator approve --key`)", ""
	}
	for _, ex := range t.Excluded {
		if a.Is(ex) {
			return "the proposal's author or a pusher to its branch cannot approve it", ""
		}
	}
	if isBot(a.Principal) {
		return "a bot's approval does not count", ""
	}
	if slices.ContainsFunc(t.Reporters, a.Is) {
		return "a check reporter (forge.check_reporters) is not a reviewer", ""
	}
	switch a.Via {
	case ViaSSH:
		return t.refuseSSH(commit, a)
	case ViaForge, viaGitHub:
		if !t.AcceptForge || t.Remediator == nil {
			return "a record of a forge's review does not count on this forge", ""
		}
		sig, err := signing.ParseSignature(a.Signature)
		if err != nil {
			return err.Error(), ""
		}
		if err := sig.VerifyWith(a.Payload(commit), t.Remediator, signing.NamespaceApproval); err != nil {
			return "not recorded by this remediator: " + err.Error(), ""
		}
		return "", "forge:" + signing.Normalize(a.Principal)
	}
	return "unknown kind of approval " + a.Via, ""
}

// refuseSSH checks an approval signed with a reviewer's key: listed for the
// principal by name (a pattern never approves), valid now, and never the
// remediator's own key nor a check reporter's.
func (t Trust) refuseSSH(commit string, a Approval) (reason, person string) {
	if t.Reviewers == nil {
		return "no allowed-signers file is configured (forge.allowed_signers_file), so no signature can be checked", ""
	}
	key, err := t.Reviewers.VerifyPerson(a.Payload(commit), a.Signature, a.Principal, signing.NamespaceApproval, t.Now)
	if err != nil {
		return "signature not accepted: " + err.Error(), ""
	}
	if t.Remediator != nil && signing.SameKey(key, t.Remediator) {
		return "signed with the remediator's own key, which never approves", ""
	}
	if t.Reviewers.ListsFor(key, t.Reporters) {
		return "signed with a key the allowed-signers file lists for a check reporter (forge.check_reporters), which never approves", ""
	}
	return "", ssh.FingerprintSHA256(key)
}

func isBot(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, "[bot]") || strings.Contains(n, "[bot]@")
}
