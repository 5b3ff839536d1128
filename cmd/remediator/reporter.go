package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// checkReporter is who signs a check report on the local forge: CI's key (--key) and
// its principal, which the allowed-signers file must list for the key and
// forge.check_reporters must name, or the remediator would not count the report.
// Checked before anything is written, so a report that would not count is refused.
func checkReporter(cfg *config.Config, keyFile, principal string) (*signing.Key, string, error) {
	if keyFile == "" {
		return nil, "", badInput(errors.New("--key is required on the local forge: a check report counts only when signed by CI's key " +
			"(listed in forge.allowed_signers_file for a principal of forge.check_reporters)"))
	}
	signers, err := allowedSigners(cfg)
	if err != nil {
		return nil, "", err
	}
	if signers == nil {
		return nil, "", badInput(errors.New("forge.allowed_signers_file is not set: it must list the key that signs check reports"))
	}
	key, err := signing.LoadKey(keyFile)
	if err != nil {
		return nil, "", badInput(fmt.Errorf("--key: %w", err))
	}
	who, err := approverPrincipal(signers, key, principal)
	if err != nil {
		return nil, "", err
	}
	if (lifecycle.CheckTrust{Signers: signers, Reporters: cfg.Forge.CheckReporters}).Reports(who) {
		return key, who, nil
	}
	return nil, "", badInput(fmt.Errorf("--key signs as %s, who is not in forge.check_reporters (%s): the remediator would not count the report",
		who, strings.Join(cfg.Forge.CheckReporters, ", ")))
}
