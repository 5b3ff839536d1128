package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/notify"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/verify"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// localInfra loads the config and opens the infrastructure repository for commands
// of the local forge.
func localInfra(cmd *cobra.Command, configFile, what string) (*config.Config, *infrarepo.Repo, error) {
	cfg, err := config.Load(configFile)
	if err != nil {
		return nil, nil, badInput(err)
	}
	if cfg.Forge.Type != config.ForgeLocal {
		return nil, nil, badInput(fmt.Errorf("forge.type is %q: %s is for the local forge; on GitHub, reviews and merges happen on the pull request", cfg.Forge.Type, what))
	}
	infra, err := infrarepo.Open(cmd.Context(), cfg.Infrastructure.Repository, config.Secret(cfg.Infrastructure.TokenEnv), cfg.StateDir)
	if err != nil {
		return nil, nil, err
	}
	return cfg, infra, nil
}

func newApproveCommand() *cobra.Command {
	var configFile, id, keyFile, principal string
	cmd := &cobra.Command{
		Use:   "approve --config FILE --id ID --key SSH_KEY [--principal P]",
		Short: "Approve a proposal's current head commit with your SSH key (local forge)",
		Long: "Signs the approval of the proposal's head commit with your SSH key (the format ssh-keygen -Y sign\n" +
			"writes) and records it as a git note (refs/notes/remediation-approvals): it counts for that exact\n" +
			"commit only, and only when forge.allowed_signers_file lists your key for the principal it names.\n" +
			"The proposal's author cannot approve it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" || keyFile == "" {
				return badInput(errors.New("--id and --key are required"))
			}
			rs, err := openReviewerSigning(cmd, configFile, "approve", "an approval", keyFile, principal)
			if err != nil {
				return err
			}
			defer func() { _ = rs.infra.Close() }()
			cfg, infra, reviewers, key, who := rs.cfg, rs.infra, rs.reviewers, rs.key, rs.who
			branch := decision.Branch(id)
			head, ok := infra.Branch(branch)
			if !ok {
				return badInput(fmt.Errorf("--id %s: no proposal branch %s in %s", id, branch, cfg.Infrastructure.Repository))
			}
			c, err := infra.Commit(head)
			if err != nil {
				return err
			}
			if _, err := infra.ReadFile(head, artifact.Path(id)); err != nil {
				return badInput(fmt.Errorf("--id %s: %s carries no artifact %s: not a proposal", id, branch, artifact.Path(id)))
			}
			a, err := records.Sign(key, head.String(), who, records.ViaSSH, time.Now())
			if err != nil {
				return badInput(err)
			}
			trust := records.Trust{Reviewers: reviewers, Remediator: infra.Signer.Public(), Excluded: []string{c.Author.Name, c.Author.Email},
				Reporters: cfg.Forge.CheckReporters, Now: time.Now()}
			if _, ignored := records.Counted(head.String(), []records.Approval{a}, trust); len(ignored) > 0 {
				return badInput(fmt.Errorf("%s cannot approve %s: %s", who, id, strings.Join(ignored, "; ")))
			}
			note, err := infra.UpdateNote(cmd.Context(), records.ApprovalsRef, head, "approve "+id+" by "+who,
				object.Signature{Name: who, Email: who, When: a.At}, func(old []byte) ([]byte, error) { return records.AddApproval(old, a), nil })
			if err != nil {
				return err
			}
			entries, _ := records.ParseApprovals(note)
			counted, _ := records.Counted(head.String(), entries, trust)
			fmt.Fprintf(cmd.OutOrStdout(), "approved %s at %s by %s: %d approval(s) on this commit\n", id, short(head), who, len(counted))
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringVar(&id, "id", "", "remediation id (the branch is remediation/<id>)")
	cmd.Flags().StringVar(&keyFile, "key", "", "your SSH private key (unencrypted OpenSSH format), listed in the allowed-signers file")
	cmd.Flags().StringVar(&principal, "principal", "", "who you are in the allowed-signers file, when your key is listed under several principals")
	return cmd
}

// approverPrincipal is who the key's owner approves as: the principal given, which
// the allowed-signers file must list for the key, or the only one it lists.
func approverPrincipal(as *signing.AllowedSigners, key *signing.Key, want string) (string, error) {
	have := as.PrincipalsOf(key.Public())
	switch {
	case len(have) == 0:
		return "", badInput(fmt.Errorf("--key: %s is not listed in %s", key.Fingerprint(), as.File))
	case want != "":
		for _, p := range have {
			if signing.SameIdentity(p, want) {
				return p, nil
			}
		}
		return "", badInput(fmt.Errorf("--principal %s: %s lists this key for %s only", want, as.File, strings.Join(have, ", ")))
	case len(have) > 1:
		return "", badInput(fmt.Errorf("--principal is needed: %s lists this key for %s", as.File, strings.Join(have, ", ")))
	}
	return have[0], nil
}

func short(h plumbing.Hash) string { return h.String()[:12] }

func newReconcileCommand() *cobra.Command {
	var configFile, output string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "reconcile --config FILE",
		Short: "One pass over the open proposals: merge what passes its gates, verify what merged",
		Long: "For each open proposal: the approvals of its head commit (distinct people, not the author, not bots),\n" +
			"the policy's required reviewers and windows, then a merge commit with the proposal's trailers and one\n" +
			"Approved-by per approver, pushed with compare-and-swap on the base. For cron or CI.\n" +
			"With --dry-run nothing is merged, closed, reported or recorded: each proposal says what the pass\n" +
			"would do (would-merge, would-close, or waiting and why), each merged remediation where its\n" +
			"verification stands.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return badInput(fmt.Errorf("--output: want text or json, not %q", output))
			}
			cfg, err := config.Load(configFile)
			if err != nil {
				return badInput(err)
			}
			logger := newLogger(cmd, logText)
			infra, fg, err := openInfra(cmd.Context(), cfg, logger)
			if err != nil {
				return err
			}
			defer func() { _ = infra.Close() }()
			cat, _, err := loadCatalog(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			r, err := newReconciler(cfg, infra, fg, cat, logger)
			if err != nil {
				return err
			}
			r.DryRun = dryRun
			notifier, err := newNotifier(cfg, logger, nil)
			if err != nil {
				return err
			}
			outcomes, err := runPass(cmd.Context(), r, fg)
			facts := notify.Facts{Infra: infra, Base: cfg.Infrastructure.Base, Catalog: cat, StatusURL: cfg.Notify.StatusURL, Now: time.Now}
			told(cmd.Context(), notifier, facts, claimsOf(cfg, infra), outcomes, dryRun)
			// What the pass did is printed even when part of it failed; the error
			// (and a non-zero exit) follows.
			passErr := err
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, o := range outcomes {
					if err := enc.Encode(o); err != nil {
						return err
					}
				}
				return passErr
			}
			for _, o := range outcomes {
				switch o.Action {
				case decision.Merged:
					fmt.Fprintf(cmd.OutOrStdout(), "merged: %s as %s (approved by %s)\n", o.Branch, o.Merge[:12], strings.Join(o.Approvers, ", "))
				case decision.Action(forge.OutcomeVerified), decision.Action(forge.OutcomeFailed), decision.Action(forge.OutcomeNotApplied), decision.Verifying:
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s (merge %s): %s\n", o.Action, o.ID, o.Merge[:12], o.Reason)
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s: %s\n", o.Action, o.Branch, o.Reason)
				}
			}
			return passErr
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringVar(&output, "output", "text", "text or json")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "read only: say what the pass would do")
	return cmd
}

// runPass runs one reconcile pass of the kind the forge needs: GitHub's pull
// requests, or the local forge's branches.
func runPass(ctx context.Context, r *lifecycle.Reconciler, fg forge.Forge) ([]lifecycle.Result, error) {
	if r.Tracer == nil {
		r.Tracer = tracing.Tracer(tracing.Provider(ctx))
	}
	if prs := fg.PullRequests(); prs != nil {
		return r.RunPullRequests(ctx, prs)
	}
	return r.Run(ctx)
}

// newReconciler is the lifecycle engine for a configuration: its infrastructure
// repository, local teams and, when Alertmanager or Prometheus is configured, the
// verifier of merged remediations.
func newReconciler(cfg *config.Config, infra *infrarepo.Repo, fg forge.Forge, cat *runbooks.Catalog, logger *slog.Logger) (*lifecycle.Reconciler, error) {
	reviewers, err := allowedSigners(cfg)
	if err != nil {
		return nil, err
	}
	r := &lifecycle.Reconciler{Infra: infra, Catalog: cat, Base: cfg.Infrastructure.Base, Teams: cfg.Forge.Teams, Closer: fg, Reviewers: reviewers,
		CheckReporters: cfg.Forge.CheckReporters,
		AuthorName:     cfg.Infrastructure.AuthorName, AuthorEmail: cfg.Infrastructure.AuthorEmail, Now: time.Now, Logger: logger}
	if cfg.Forge.Type == config.ForgeLocal {
		for _, w := range records.UnreachableReviewers(cat, reviewers, cfg.Forge.Teams) {
			logger.Warn("a required reviewer nobody can be", "problem", w)
		}
		if reviewers != nil {
			for _, refused := range reviewers.Refused {
				logger.Warn("an allowed-signers line is not honoured; its key approves nothing", "problem", refused.Reason)
			}
		}
	}
	if cfg.Alertmanager.URL != "" || cfg.Prometheus.URL != "" {
		r.Verifier = &verify.Verifier{Alertmanager: cfg.Alertmanager.URL, Prometheus: cfg.Prometheus.URL, RestartGrace: cfg.Alertmanager.RestartGrace.Std()}
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		return nil, fmt.Errorf("route the catalog: %w", err)
	}
	r.Router = router
	r.Reproposer = reproposer{p: &propose.Proposer{
		Catalog: cat, Router: router, Infra: infra, Forge: fg, Base: cfg.Infrastructure.Base,
		AuthorName: cfg.Infrastructure.AuthorName, AuthorEmail: cfg.Infrastructure.AuthorEmail,
		Now: time.Now, Logger: logger, Limits: proposalLimits(cfg),
	}}
	return r, nil
}

// reviewerSigning is what approve and reject both start from on the local forge: the
// configuration, the mirror, the allowed signers, the reviewer's key and the principal
// it signs as.
type reviewerSigning struct {
	cfg       *config.Config
	infra     *infrarepo.Repo
	reviewers *signing.AllowedSigners
	key       *signing.Key
	who       string
}

// openReviewerSigning opens it for the command verb; act names the record the
// signature makes ("an approval"), for the error when no allowed-signers file is set.
func openReviewerSigning(cmd *cobra.Command, configFile, verb, act, keyFile, principal string) (*reviewerSigning, error) {
	cfg, infra, err := localInfra(cmd, configFile, verb)
	if err != nil {
		return nil, err
	}
	rs, err := reviewerOf(cfg, act, keyFile, principal)
	if err != nil {
		_ = infra.Close()
		return nil, err
	}
	rs.infra = infra
	return rs, nil
}

func reviewerOf(cfg *config.Config, act, keyFile, principal string) (*reviewerSigning, error) {
	reviewers, err := allowedSigners(cfg)
	if err != nil {
		return nil, err
	}
	if reviewers == nil {
		return nil, badInput(fmt.Errorf("forge.allowed_signers_file is not set: on the local forge %s is a signature by a reviewer's key listed there", act))
	}
	key, err := signing.LoadKey(keyFile)
	if err != nil {
		return nil, badInput(fmt.Errorf("--key: %w", err))
	}
	who, err := approverPrincipal(reviewers, key, principal)
	if err != nil {
		return nil, err
	}
	return &reviewerSigning{cfg: cfg, reviewers: reviewers, key: key, who: who}, nil
}
