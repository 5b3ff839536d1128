package main

import (
	"context"
	"log/slog"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/gitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// openGitLab opens the mirror and the gitlab forge. With no token of its own for the
// repository, Git pushes with the forge's token.
func openGitLab(ctx context.Context, cfg *config.Config, log *slog.Logger, infraToken string) (*infrarepo.Repo, forge.Forge, error) {
	gl, err := newGitLabForge(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	var tokens infrarepo.TokenFunc
	if infraToken == "" {
		tokens = gl.GitToken
	}
	infra, err := infrarepo.OpenWith(ctx, cfg.Infrastructure.Repository, tokens, infraToken, cfg.StateDir)
	if err != nil {
		return nil, nil, err
	}
	return infra, gl, nil
}

// newGitLabForge builds the gitlab forge the configuration describes, its token from
// forge.token_env or forge.token_file.
func newGitLabForge(cfg *config.Config, log *slog.Logger) (*gitlab.Forge, error) {
	token, err := giteaToken(cfg.Forge)
	if err != nil {
		return nil, err
	}
	base := cfg.Forge.BaseURL
	if base == "" {
		base = config.DefaultGitLabURL
	}
	f, err := gitlab.New(gitlab.Options{BaseURL: base, Project: cfg.GitLabProject(), Token: token, Logger: log, Reporters: cfg.Forge.CheckReporters})
	if err != nil {
		return nil, badInput(err)
	}
	if len(cfg.Forge.CheckReporters) == 0 {
		log.Warn(`forge.check_reporters is not set: on GitLab no commit status counts, so a policy's required_checks ` +
			`and a runbook's applied check never pass; name there the users whose pipelines and statuses count`)
	}
	return f, nil
}
