package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/local"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

func newRejectCommand() *cobra.Command {
	var configFile, id, keyFile, principal, reason string
	cmd := &cobra.Command{
		Use:   "reject --config FILE --id ID --key SSH_KEY [--principal P] [--reason TEXT]",
		Short: "Reject a proposal with your SSH key and close it (local forge)",
		Long: "Signs a rejection of the proposal's head commit with your SSH key, as `approve` signs an approval\n" +
			"(the allowed-signers file must list the key for the principal), records it under\n" +
			"refs/notes/remediation-closed and deletes the branch with compare-and-swap. The rejection starts the\n" +
			"runbook's cooldown for the target: a repeat of the anomaly proposes nothing until it ends. The same\n" +
			"head pushed again stays rejected. On GitHub, close the pull request.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" || keyFile == "" {
				return badInput(errors.New("--id and --key are required"))
			}
			rs, err := openReviewerSigning(cmd, configFile, "reject", "a rejection", keyFile, principal)
			if err != nil {
				return err
			}
			defer func() { _ = rs.infra.Close() }()
			cfg, infra, reviewers, key, who := rs.cfg, rs.infra, rs.reviewers, rs.key, rs.who
			p, err := openProposal(cfg, infra, id)
			if err != nil {
				return err
			}
			now := time.Now()
			signed, err := records.SignRejection(key, records.Closing{ID: id, Head: p.Head, By: who, At: now, Reason: reason})
			if err != nil {
				return badInput(err)
			}
			if _, ok, why := records.ReadClosing(signed, id, nil, reviewers, now); !ok {
				return badInput(fmt.Errorf("%s cannot reject %s: %s", who, id, why))
			}
			f := &local.Forge{Infra: infra, Base: cfg.Infrastructure.Base, Reviewers: reviewers, AuthorName: who, AuthorEmail: who}
			if err := f.Reject(cmd.Context(), p, signed); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rejected %s at %s by %s: the branch is closed; the runbook's cooldown for this target starts now\n", id, short(plumbing.NewHash(p.Head)), who)
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringVar(&id, "id", "", "remediation id (the branch is remediation/<id>)")
	cmd.Flags().StringVar(&keyFile, "key", "", "your SSH private key (unencrypted OpenSSH format), listed in the allowed-signers file")
	cmd.Flags().StringVar(&principal, "principal", "", "who you are in the allowed-signers file, when your key is listed under several principals")
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the rejection")
	return cmd
}

func newCloseCommand() *cobra.Command {
	var configFile, id, reason string
	cmd := &cobra.Command{
		Use:   "close --config FILE --id ID [--reason TEXT]",
		Short: "Close a proposal without merging it (local forge, for the remediator's operators)",
		Long: "Records the closing under refs/notes/remediation-closed, sealed with the remediator's own key\n" +
			"(signing.key_file), and deletes the branch with compare-and-swap. Like a pull request closed by hand,\n" +
			"it starts the runbook's cooldown for the target. On GitHub, close the pull request.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return badInput(errors.New("--id is required"))
			}
			cfg, err := config.Load(configFile)
			if err != nil {
				return badInput(err)
			}
			if cfg.Forge.Type != config.ForgeLocal {
				return badInput(fmt.Errorf("forge.type is %q: close is for the local forge; on GitHub, close the pull request", cfg.Forge.Type))
			}
			infra, fg, err := openInfra(cmd.Context(), cfg, newLogger(cmd, logText))
			if err != nil {
				return err
			}
			defer func() { _ = infra.Close() }()
			p, err := openProposal(cfg, infra, id)
			if err != nil {
				return err
			}
			if reason == "" {
				reason = "closed by an operator"
			}
			if err := fg.(*local.Forge).CloseAs(cmd.Context(), p, records.ClosedByOperator, reason); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "closed %s at %s: the runbook's cooldown for this target starts now\n", id, short(plumbing.NewHash(p.Head)))
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringVar(&id, "id", "", "remediation id (the branch is remediation/<id>)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the closing")
	return cmd
}

// openProposal is the open proposal of id on the local forge: its branch, holding
// its artifact, not merged.
func openProposal(cfg *config.Config, infra *infrarepo.Repo, id string) (forge.Proposal, error) {
	branch := decision.Branch(id)
	head, ok := infra.Branch(branch)
	if !ok {
		return forge.Proposal{}, badInput(fmt.Errorf("--id %s: no proposal branch %s in %s", id, branch, cfg.Infrastructure.Repository))
	}
	if _, err := infra.ReadFile(head, artifact.Path(id)); err != nil {
		return forge.Proposal{}, badInput(fmt.Errorf("--id %s: %s carries no artifact %s: not a proposal", id, branch, artifact.Path(id)))
	}
	merged, err := infra.IsMerged(head, cfg.Infrastructure.Base)
	if err != nil {
		return forge.Proposal{}, err
	}
	if merged {
		return forge.Proposal{}, badInput(fmt.Errorf("--id %s: already merged into %s", id, cfg.Infrastructure.Base))
	}
	return forge.Proposal{ID: id, Branch: branch, Head: head.String(), State: forge.Open}, nil
}
