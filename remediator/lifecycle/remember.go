package lifecycle

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// rememberNotGreen seals, on the local forge, the counted reports of the named checks
// on commit that are not success, with those it had sealed before.
func (r *Reconciler) rememberNotGreen(ctx context.Context, commit plumbing.Hash, names []string) error {
	if r.Facts != nil || r.DryRun || r.Infra.Signer == nil || len(names) == 0 {
		return nil
	}
	reports, err := records.LocalReports(r.Infra, commit)
	if err != nil {
		return err
	}
	trust := records.CheckTrust{Signers: r.Reviewers, Reporters: r.CheckReporters, Now: r.Now()}
	var bad []records.CheckReport
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
func (r *Reconciler) rememberReports(ctx context.Context, commit plumbing.Hash, reports []records.CheckReport) error {
	infra := r.Infra
	_, err := infra.UpdateNote(ctx, records.EvidenceRef, commit, "check reports seen", r.by(r.Now()), func(old []byte) ([]byte, error) {
		return records.AddSeen(old, commit, infra.Signer, reports)
	})
	if err != nil {
		return fmt.Errorf("record the check reports seen on %s: %w", commit, err)
	}
	return nil
}
