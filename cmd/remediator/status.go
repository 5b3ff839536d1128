package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/daemon"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/status"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

func newStatusCommand() *cobra.Command {
	var configFile, format string
	cmd := &cobra.Command{
		Use:   "status --config FILE [--format table|json]",
		Short: "What is in flight and why it waits: proposals, verifications, outcomes, runbooks, queue",
		Long: "Every open proposal with the exact reason it waits (or what the next pass would do), every merged\n" +
			"remediation without an outcome with where its verification stands, recent outcomes, each runbook's\n" +
			"record at its current version and its circuit breakers, and the intake queue with its dead letters.\n" +
			"Read only, and on GitHub never asks the forge: the proposals are those the last reconcile pass of\n" +
			"`serve` found (kept in state_dir/status/last-pass.json), the rest comes from Git and the queue; on the\n" +
			"local forge, a dry-run pass over the branches. `serve` shows the same at /. `reconcile --dry-run`\n" +
			"asks GitHub what a pass would do now.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return badInput(fmt.Errorf("--format: want table or json, not %q", format))
			}
			cfg, err := config.Load(configFile)
			if err != nil {
				return badInput(err)
			}
			snap, err := statusSnapshot(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(snap)
			}
			return snap.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

// statusSnapshot is what `status` shows: the proposals of the last pass (lastPass),
// the history and the queue.
func statusSnapshot(ctx context.Context, cfg *config.Config) (*status.Snapshot, error) {
	logger := slog.New(slog.DiscardHandler)
	infra, fg, err := openInfra(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	defer func() { _ = infra.Close() }()
	cat, _, err := loadCatalog(ctx, cfg)
	if err != nil {
		return nil, err
	}
	last, err := lastPass(ctx, cfg, infra, fg, cat, logger)
	if err != nil {
		return nil, err
	}
	return status.Build(status.Inputs{
		Pass: last.Outcomes(), PassErr: last.Err(), PassAt: last.At, Infra: infra, Base: cfg.Infrastructure.Base, Catalog: cat,
		QueueDir: filepath.Join(cfg.StateDir, "queue"), Now: time.Now(),
	}), nil
}

// lastPass is what the status shows of the proposals: on GitHub the last pass serve
// kept in state_dir (no request to GitHub), on the local forge a dry-run pass.
func lastPass(ctx context.Context, cfg *config.Config, infra *infrarepo.Repo, fg forge.Forge, cat *runbooks.Catalog, logger *slog.Logger) (*daemon.LastPass, error) {
	if cfg.Forge.Type != config.ForgeLocal {
		last, _, err := daemon.ReadLastPass(daemon.LastPassFile(cfg.StateDir))
		if last == nil {
			last = &daemon.LastPass{}
		}
		return last, err
	}
	r, err := newReconciler(cfg, infra, fg, cat, logger)
	if err != nil {
		return nil, err
	}
	r.DryRun = true
	outcomes, passErr := runPass(ctx, r, fg)
	return daemon.DryRunPass(outcomes, passErr, time.Now()), nil
}
