package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/gitea"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// openGitea opens the mirror and the gitea forge. With no token of its own for the
// repository, Git pushes with the forge's token.
func openGitea(ctx context.Context, cfg *config.Config, log *slog.Logger, infraToken string) (*infrarepo.Repo, forge.Forge, error) {
	gt, err := newGiteaForge(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	var tokens infrarepo.TokenFunc
	if infraToken == "" {
		tokens = gt.GitToken
	}
	infra, err := infrarepo.OpenWith(ctx, cfg.Infrastructure.Repository, tokens, infraToken, cfg.StateDir)
	if err != nil {
		return nil, nil, err
	}
	return infra, gt, nil
}

// newGiteaForge builds the gitea forge the configuration describes, its token from
// forge.token_env or forge.token_file.
func newGiteaForge(cfg *config.Config, log *slog.Logger) (*gitea.Forge, error) {
	token, err := giteaToken(cfg.Forge)
	if err != nil {
		return nil, err
	}
	f, err := gitea.New(gitea.Options{BaseURL: cfg.Forge.BaseURL, Owner: cfg.Forge.Owner, Repository: cfg.Forge.Repository,
		Token: token, Logger: log, Reporters: cfg.Forge.CheckReporters})
	if err != nil {
		return nil, badInput(err)
	}
	if len(cfg.Forge.CheckReporters) == 0 {
		log.Warn(`forge.check_reporters is not set: on Gitea no commit status counts, so a policy's required_checks ` +
			`and a runbook's applied check never pass; name CI's login there`)
	}
	return f, nil
}

func giteaToken(f config.Forge) (string, error) {
	if f.TokenFile != "" {
		data, err := os.ReadFile(f.TokenFile)
		if err != nil {
			return "", badInput(fmt.Errorf("forge.token_file: %w", err))
		}
		if tok := strings.TrimSpace(string(data)); tok != "" {
			return tok, nil
		}
		return "", badInput(fmt.Errorf("forge.token_file: %s is empty", f.TokenFile))
	}
	tok := config.Secret(f.TokenEnv)
	if tok == "" {
		return "", badInput(fmt.Errorf("forge.token_env: the environment variable %s is not set", f.TokenEnv))
	}
	return tok, nil
}
