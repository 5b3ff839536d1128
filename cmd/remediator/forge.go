package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/local"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// openInfra opens the infrastructure repository's mirror and the forge proposals go
// to. With the github forge and no token of its own for the repository, Git uses the
// forge's credentials (a GitHub App's installation token is renewed as it expires).
func openInfra(ctx context.Context, cfg *config.Config, log *slog.Logger, with ...func(*github.Options)) (*infrarepo.Repo, forge.Forge, error) {
	key, err := signingKey(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	infra, fg, err := openInfraUnsigned(ctx, cfg, log, with...)
	if err != nil {
		return nil, nil, err
	}
	infra.Signer = key
	return infra, fg, nil
}

func openInfraUnsigned(ctx context.Context, cfg *config.Config, log *slog.Logger, with ...func(*github.Options)) (*infrarepo.Repo, forge.Forge, error) {
	infraToken := config.Secret(cfg.Infrastructure.TokenEnv)
	switch cfg.Forge.Type {
	case config.ForgeGitea:
		return openGitea(ctx, cfg, log, infraToken)
	case config.ForgeGitLab:
		return openGitLab(ctx, cfg, log, infraToken)
	}
	if cfg.Forge.Type != config.ForgeGitHub {
		infra, err := infrarepo.Open(ctx, cfg.Infrastructure.Repository, infraToken, cfg.StateDir)
		if err != nil {
			return nil, nil, err
		}
		reviewers, err := allowedSigners(cfg)
		if err != nil {
			_ = infra.Close()
			return nil, nil, err
		}
		return infra, &local.Forge{Infra: infra, Base: cfg.Infrastructure.Base, Reviewers: reviewers,
			AuthorName: cfg.Infrastructure.AuthorName, AuthorEmail: cfg.Infrastructure.AuthorEmail}, nil
	}
	gh, err := newGitHubForge(cfg, log, with...)
	if err != nil {
		return nil, nil, err
	}
	var tokens infrarepo.TokenFunc
	if infraToken == "" {
		tokens = gh.GitToken
	}
	infra, err := infrarepo.OpenWith(ctx, cfg.Infrastructure.Repository, tokens, infraToken, cfg.StateDir)
	if err != nil {
		return nil, nil, err
	}
	return infra, gh, nil
}

// newPullRequests builds the forge with its own review objects the configuration
// names, for commands that only report on it (plan-check --comment).
func newPullRequests(cfg *config.Config, log *slog.Logger) (forge.PullRequests, error) {
	switch cfg.Forge.Type {
	case config.ForgeGitHub:
		return newGitHubForge(cfg, log)
	case config.ForgeGitea:
		return newGiteaForge(cfg, log)
	case config.ForgeGitLab:
		return newGitLabForge(cfg, log)
	default:
		return nil, badInput(fmt.Errorf("forge.type: %q has no pull requests", cfg.Forge.Type))
	}
}

// newGitHubForge builds the github forge the configuration describes; with adjusts
// its options (serve adds the rate-limit budget). The remediator's login is kept in
// state_dir, so a command asks GitHub for it once per token, not once per run.
func newGitHubForge(cfg *config.Config, log *slog.Logger, with ...func(*github.Options)) (*github.Forge, error) {
	if cfg.Forge.Type != config.ForgeGitHub {
		return nil, badInput(fmt.Errorf("forge.type: %q: this needs the github forge", cfg.Forge.Type))
	}
	o := github.Options{
		Owner: cfg.Forge.Owner, Repository: cfg.Forge.Repository, BaseURL: cfg.Forge.BaseURL,
		Token: config.Secret(cfg.Forge.TokenEnv), AppID: int64(cfg.Forge.AppID), InstallationID: int64(cfg.Forge.InstallationID),
		Logger: log, Reporters: cfg.Forge.CheckReporters, SelfFile: filepath.Join(cfg.StateDir, "github-self.json"),
		RecordFile: filepath.Join(cfg.StateDir, "github-proposals.json"),
	}
	for _, w := range with {
		w(&o)
	}
	if cfg.Forge.TokenEnv != "" && o.Token == "" {
		return nil, badInput(fmt.Errorf("forge.token_env: the environment variable %s is not set", cfg.Forge.TokenEnv))
	}
	if cfg.Forge.PrivateKeyFile != "" {
		key, err := os.ReadFile(cfg.Forge.PrivateKeyFile)
		if err != nil {
			return nil, badInput(fmt.Errorf("forge.private_key_file: %w", err))
		}
		o.PrivateKey = key
	}
	gh, err := github.New(o)
	if err != nil {
		return nil, badInput(err)
	}
	if len(cfg.Forge.CheckReporters) == 0 {
		log.Warn(`forge.check_reporters is not set: on GitHub no commit status or check run counts, so a policy's required_checks ` +
			`and a runbook's applied check never pass; name CI's login or App there, or ["*"] to count everyone with write access`)
	}
	return gh, nil
}

// signingKey is the remediator's own key: the configured one, or one it creates in
// state_dir on first use (said in the log: replicas must share a configured key).
func signingKey(cfg *config.Config, log *slog.Logger) (*signing.Key, error) {
	if cfg.Signing.KeyFile != "" {
		k, err := signing.LoadKey(cfg.Signing.KeyFile)
		if err != nil {
			return nil, badInput(fmt.Errorf("signing.key_file: %w", err))
		}
		return k, nil
	}
	k, created, err := signing.LoadOrCreateKey(cfg.SigningKeyFile())
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if created {
		log.Warn("created a signing key in state_dir; replicas that merge each other's proposals need one shared signing.key_file, listed in the allowed-signers file for audit verify",
			"file", cfg.SigningKeyFile(), "fingerprint", k.Fingerprint())
	}
	return k, nil
}

// allowedSigners reads the reviewers' keys the configuration names; nil when none.
func allowedSigners(cfg *config.Config) (*signing.AllowedSigners, error) {
	if cfg.Forge.AllowedSignersFile == "" {
		return nil, nil
	}
	as, err := signing.LoadAllowedSigners(cfg.Forge.AllowedSignersFile)
	if err != nil {
		return nil, badInput(fmt.Errorf("forge.allowed_signers_file: %w", err))
	}
	return as, nil
}

// recordHistory opens the infrastructure repository as the evidence of the runbooks'
// records (route, replay): the remediator's merges and sealed outcomes. close
// releases the mirror.
func recordHistory(ctx context.Context, cfg *config.Config) (h records.History, closeFn func(), err error) {
	key, err := remediatorPublicKey(cfg)
	if err != nil {
		return h, nil, err
	}
	infra, err := infrarepo.Open(ctx, cfg.Infrastructure.Repository, config.Secret(cfg.Infrastructure.TokenEnv), cfg.StateDir)
	if err != nil {
		return h, nil, err
	}
	h = records.History{Repo: infra, Base: cfg.Infrastructure.Base, Remediator: key, Now: time.Now()}
	return h, func() { _ = infra.Close() }, nil
}

// remediatorPublicKey is the public half of the remediator's key, for commands that
// read its records (route, replay) and must not create a key: its FILE.pub, else the
// key file itself. A remediator that never ran has made no key in state_dir yet, nor
// any record: nil, and every record is empty.
func remediatorPublicKey(cfg *config.Config) (ssh.PublicKey, error) {
	file := cfg.SigningKeyFile()
	if _, err := os.Stat(file); cfg.Signing.KeyFile == "" && errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	pub, err := signing.LoadPublicKey(file + ".pub")
	if err == nil {
		return pub, nil
	}
	if pub, err2 := signing.LoadPublicKey(file); err2 == nil {
		return pub, nil
	}
	return nil, fmt.Errorf("the remediator's public key (signing.key_file %s, or its .pub): %w; without it no outcome counts", file, err)
}
