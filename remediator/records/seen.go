package records

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// What the remediator saw is what it decides on (remediator/TRUST.md): anyone who may
// push the checks note can rewind it to before a failure CI reported, and the report
// of success that failure had overtaken wins again. So when a pass waits on a check
// that is not green, it seals the reports it saw under EvidenceRef, on the commit,
// and every later pass counts them with the note's: a report CI signed, once seen,
// is never forgotten.

// EvidenceRef holds the check reports the remediator saw, sealed, one note per commit.
const EvidenceRef = "refs/notes/remediation-evidence"

// KindEvidence is the kind of the sealed record of the reports seen on a commit.
const KindEvidence RecordKind = "evidence"

// seenLine starts each report in the record: the report's note entry in base64, as
// its own signature block must not end the seal's body.
const seenLine = "seen "

// SeenReports are the check reports the remediator sealed as seen on commit; a
// record it did not seal is none.
func SeenReports(infra *infrarepo.Repo, commit plumbing.Hash, remediator ssh.PublicKey) ([]CheckReport, error) {
	note, found, err := infra.Note(EvidenceRef, commit)
	if err != nil || !found || remediator == nil {
		return nil, err
	}
	return parseSeen(note, commit, remediator), nil
}

func parseSeen(note []byte, commit plumbing.Hash, remediator ssh.PublicKey) []CheckReport {
	body, err := Unseal(note, KindEvidence, commit, remediator)
	if err != nil {
		return nil
	}
	var entries bytes.Buffer
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, seenLine); ok {
			if e, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v)); err == nil {
				entries.Write(e)
			}
		}
	}
	return ParseChecks(entries.Bytes())
}

// LocalReports are the check reports on commit: the checks note's, and those the
// remediator saw and sealed, which a rewound note cannot take away.
func LocalReports(infra *infrarepo.Repo, commit plumbing.Hash) ([]CheckReport, error) {
	note, _, err := infra.Note(ChecksRef, commit)
	if err != nil {
		return nil, err
	}
	var key ssh.PublicKey
	if infra.Signer != nil {
		key = infra.Signer.Public()
	}
	seen, err := SeenReports(infra, commit, key)
	if err != nil {
		return nil, err
	}
	return append(ParseChecks(note), seen...), nil
}

// AddSeen returns the sealed record of the check reports seen on commit with reports
// added: old itself when it holds them all already, so nothing is written.
func AddSeen(old []byte, commit plumbing.Hash, k *signing.Key, reports []CheckReport) ([]byte, error) {
	had := parseSeen(old, commit, k.Public())
	have := map[string]bool{}
	var b strings.Builder
	for _, rep := range append(had, reports...) {
		if h := EntryHash(rep.Entry()); !have[h] {
			have[h] = true
			b.WriteString(seenLine + base64.StdEncoding.EncodeToString(rep.Entry()) + "\n")
		}
	}
	if len(had) == len(have) && old != nil {
		return old, nil
	}
	return Seal(k, KindEvidence, commit, b.String())
}
