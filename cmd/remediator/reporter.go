package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// reporter is CI on the local forge: the key that signs its check reports and the
// principal it signs them as.
type reporter struct {
	key *signing.Key
	who string
}

// record signs the report of check on sha and appends it to the commit's checks
// note (the local forge's commit status), authored by the reporter.
func (r reporter) record(ctx context.Context, infra *infrarepo.Repo, sha plumbing.Hash, check string, state forge.CheckState) error {
	report, err := records.SignCheck(r.key, sha.String(), check, state, r.who, time.Now())
	if err != nil {
		return badInput(err)
	}
	return records.RecordCheck(ctx, infra, sha, report, object.Signature{Name: r.who, Email: r.who, When: report.At})
}

// checkReporter is who signs a check report on the local forge: CI's key (--key) and
// its principal, which the allowed-signers file must list for the key and
// forge.check_reporters must name, or the remediator would not count the report.
// Checked before anything is written, so a report that would not count is refused.
func checkReporter(cfg *config.Config, keyFile, principal string) (reporter, error) {
	if keyFile == "" {
		return reporter{}, badInput(errors.New("--key is required on the local forge: a check report counts only when signed by CI's key " +
			"(listed in forge.allowed_signers_file for a principal of forge.check_reporters)"))
	}
	signers, err := allowedSigners(cfg)
	if err != nil {
		return reporter{}, err
	}
	if signers == nil {
		return reporter{}, badInput(errors.New("forge.allowed_signers_file is not set: it must list the key that signs check reports"))
	}
	key, err := signing.LoadKey(keyFile)
	if err != nil {
		return reporter{}, badInput(fmt.Errorf("--key: %w", err))
	}
	who, err := approverPrincipal(signers, key, principal)
	if err != nil {
		return reporter{}, err
	}
	if (records.CheckTrust{Signers: signers, Reporters: cfg.Forge.CheckReporters}).Reports(who) {
		return reporter{key: key, who: who}, nil
	}
	return reporter{}, badInput(fmt.Errorf("--key signs as %s, who is not in forge.check_reporters (%s): the remediator would not count the report",
		who, strings.Join(cfg.Forge.CheckReporters, ", ")))
}
