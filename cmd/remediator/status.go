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
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/status"
)

func newStatusCommand() *cobra.Command {
	var configFile, format string
	cmd := &cobra.Command{
		Use:   "status --config FILE [--format table|json]",
		Short: "What is in flight and why it waits: proposals, verifications, outcomes, runbooks, queue",
		Long: "Every open proposal with the exact reason it waits (or what the next pass would do), every merged\n" +
			"remediation without an outcome with where its verification stands, recent outcomes, each runbook's\n" +
			"record at its current version and its circuit breakers, and the intake queue with its dead letters.\n" +
			"Read only: a dry-run reconcile pass; nothing is pushed, merged or recorded. `serve` shows the same at /.",
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

// statusSnapshot is what `status` shows: a dry-run pass over the configuration's
// repository and catalog, the history and the queue.
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
	r, err := newReconciler(cfg, infra, fg, cat, logger)
	if err != nil {
		return nil, err
	}
	r.DryRun = true
	outcomes, passErr := runPass(ctx, r, fg)
	return status.Build(status.Inputs{
		Pass: outcomes, PassErr: passErr, Infra: infra, Base: cfg.Infrastructure.Base, Catalog: cat,
		QueueDir: filepath.Join(cfg.StateDir, "queue"), Now: time.Now(),
	}), nil
}
