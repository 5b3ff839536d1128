package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
)

// StatusContext is the commit status plan-check sets.
const StatusContext = "remediation/plan-check"

// postPlanCheck posts the report on the pull request (one comment, kept up to date)
// and sets the commit status on the head commit.
func postPlanCheck(cmd *cobra.Command, o planCheckOptions, res *plancheck.Result) error {
	cfg, err := config.Load(o.config)
	if err != nil {
		return badInput(err)
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	gh, err := newGitHubForge(cfg, log)
	if err != nil {
		return err
	}
	sha := o.sha
	if sha == "" {
		repo, err := git.PlainOpenWithOptions(o.repo, &git.PlainOpenOptions{DetectDotGit: true})
		if err != nil {
			return badInput(fmt.Errorf("--sha not given and no repository at --repo %s: %w", o.repo, err))
		}
		head, err := repo.Head()
		if err != nil {
			return badInput(fmt.Errorf("--sha not given and HEAD of %s unreadable: %w", o.repo, err))
		}
		sha = head.Hash().String()
	}
	var report strings.Builder
	if err := res.Markdown(&report); err != nil {
		return err
	}
	ctx := cmd.Context()
	if err := gh.UpsertComment(ctx, o.pr, plancheck.Marker, report.String()); err != nil {
		return err
	}
	state, desc := github.StatusSuccess, fmt.Sprintf("%d change(s) within the limits", len(res.Changes))
	switch {
	case !res.Remediation:
		desc = "not a remediation: no runbook limits apply"
	case !res.Passed():
		state, desc = github.StatusFailure, fmt.Sprintf("%d violation(s) of runbook %s / policy %s", len(res.Violations), res.Runbook, res.Policy)
	}
	if err := gh.SetStatus(ctx, sha, StatusContext, state, desc); err != nil {
		return err
	}
	log.Info("plan-check posted", "pr", o.pr, "sha", sha, "state", state, "remediation_id", res.ID)
	return nil
}
