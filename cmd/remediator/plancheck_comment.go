package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// StatusContext is the commit status plan-check sets.
const StatusContext = "remediation/plan-check"

// commentDest is where --comment reports: the configuration's forge and, on the
// local forge, CI's signing key and principal.
type commentDest struct {
	cfg *config.Config
	rep reporter
}

// commentDestOf reads and checks where --comment will report, before any work.
func commentDestOf(o planCheckOptions) (*commentDest, error) {
	cfg, err := config.Load(o.config)
	if err != nil {
		return nil, badInput(err)
	}
	d := &commentDest{cfg: cfg}
	if cfg.Forge.Type != config.ForgeLocal {
		if o.pr <= 0 {
			return nil, badInput(fmt.Errorf("--comment on the %s forge needs --pr, the pull request number", cfg.Forge.Type))
		}
		return d, nil
	}
	if d.rep, err = checkReporter(cfg, o.key, o.principal); err != nil {
		return nil, err
	}
	return d, nil
}

// postPlanCheck reports the result where the forge keeps checks. On GitHub: the
// report on the pull request (one comment, kept up to date) and the commit status on
// the head commit. On the local forge: the check in the head commit's checks note,
// which the reconcile gate reads for a policy's required_checks.
func postPlanCheck(cmd *cobra.Command, o planCheckOptions, dest *commentDest, res *plancheck.Result) error {
	cfg := dest.cfg
	log := newLogger(cmd, logText)
	sha, err := headSHA(o)
	if err != nil {
		return err
	}
	if cfg.Forge.Type == config.ForgeLocal {
		return recordLocalCheck(cmd, dest, log, sha, res)
	}
	prs, err := newPullRequests(cfg, log)
	if err != nil {
		return err
	}
	var report strings.Builder
	if err := res.Markdown(&report); err != nil {
		return err
	}
	ctx := cmd.Context()
	if err := prs.UpsertComment(ctx, o.pr, plancheck.Marker, report.String()); err != nil {
		return err
	}
	state, desc := forge.CheckSuccess, fmt.Sprintf("%d change(s) within the limits", len(res.Changes))
	switch {
	case !res.Remediation:
		desc = "not a remediation: no runbook limits apply"
	case !res.Passed():
		state, desc = forge.CheckFailure, fmt.Sprintf("%d violation(s) of runbook %s / policy %s", len(res.Violations), res.Runbook, res.Policy)
	}
	if err := prs.ReportCheck(ctx, sha, StatusContext, state, desc); err != nil {
		return err
	}
	log.Info("plan-check posted", "pr", o.pr, "sha", sha, "state", state, "remediation_id", res.ID)
	return nil
}

// recordLocalCheck appends the result to the head commit's checks note.
func recordLocalCheck(cmd *cobra.Command, dest *commentDest, log *slog.Logger, sha string, res *plancheck.Result) error {
	ctx := cmd.Context()
	cfg := dest.cfg
	infra, err := infrarepo.Open(ctx, cfg.Infrastructure.Repository, config.Secret(cfg.Infrastructure.TokenEnv), cfg.StateDir)
	if err != nil {
		return err
	}
	defer func() { _ = infra.Close() }()
	if _, err := infra.Commit(plumbing.NewHash(sha)); err != nil {
		return badInput(fmt.Errorf("--sha %s: no such commit in %s: %w", sha, cfg.Infrastructure.Repository, err))
	}
	state := forge.CheckSuccess
	if !res.Passed() {
		state = forge.CheckFailure
	}
	if err := dest.rep.record(ctx, infra, plumbing.NewHash(sha), StatusContext, state); err != nil {
		return err
	}
	log.Info("plan-check recorded", "sha", sha, "check", StatusContext, "state", state, "remediation_id", res.ID, "notes", records.ChecksRef)
	return nil
}

// headSHA is --sha, or the HEAD commit of --repo.
func headSHA(o planCheckOptions) (string, error) {
	sha := o.sha
	if sha == "" {
		repo, err := git.PlainOpenWithOptions(o.repo, &git.PlainOpenOptions{DetectDotGit: true})
		if err != nil {
			return "", badInput(fmt.Errorf("--sha not given and no repository at --repo %s: %w", o.repo, err))
		}
		head, err := repo.Head()
		if err != nil {
			return "", badInput(fmt.Errorf("--sha not given and HEAD of %s unreadable: %w", o.repo, err))
		}
		sha = head.Hash().String()
	}
	return sha, nil
}
