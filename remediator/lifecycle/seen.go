package lifecycle

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
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

// rememberNotGreen seals, on the local forge, the counted reports of the named checks
// on commit that are not success, with those it had sealed before.
func (r *Reconciler) rememberNotGreen(ctx context.Context, commit plumbing.Hash, names []string) error {
	if r.Facts != nil || r.DryRun || r.Infra.Signer == nil || len(names) == 0 {
		return nil
	}
	reports, err := localReports(r.Infra, commit)
	if err != nil {
		return err
	}
	trust := CheckTrust{Signers: r.Reviewers, Reporters: r.CheckReporters, Now: r.Now()}
	var bad []CheckReport
	for _, rep := range trust.Winners(commit.String(), reports, names) {
		if rep.State != forge.CheckSuccess {
			bad = append(bad, rep)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return r.rememberReports(ctx, commit, bad)
}

// rememberReports adds reports to the sealed record of commit; nothing is written
// when it holds them all already.
func (r *Reconciler) rememberReports(ctx context.Context, commit plumbing.Hash, reports []CheckReport) error {
	infra := r.Infra
	_, err := infra.UpdateNote(ctx, EvidenceRef, commit, "check reports seen", r.by(r.Now()), func(old []byte) ([]byte, error) {
		had := parseSeen(old, commit, infra.Signer.Public())
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
		return Seal(infra.Signer, KindEvidence, commit, b.String())
	})
	if err != nil {
		return fmt.Errorf("record the check reports seen on %s: %w", commit, err)
	}
	return nil
}

// localReports are the check reports on commit: the checks note's, and those the
// remediator saw and sealed, which a rewound note cannot take away.
func localReports(infra *infrarepo.Repo, commit plumbing.Hash) ([]CheckReport, error) {
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
