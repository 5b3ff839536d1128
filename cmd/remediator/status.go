package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/daemon"
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
			"Read only, and never asks the forge: the proposals are those the last reconcile pass of `serve` found\n" +
			"(kept in state_dir/status/last-pass.json), the rest comes from Git and the queue. `serve` shows the\n" +
			"same at /. `reconcile --dry-run` asks the forge what a pass would do now.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return badInput(fmt.Errorf("--format: want table or json, not %q", format))
			}
			cfg, err := config.Load(configFile)
			if err != nil {
				return badInput(err)
			}
			ctx := cmd.Context()
			logger := slog.New(slog.DiscardHandler)
			infra, _, err := openInfra(ctx, cfg, logger)
			if err != nil {
				return err
			}
			defer func() { _ = infra.Close() }()
			cat, _, err := loadCatalog(ctx, cfg)
			if err != nil {
				return err
			}
			last, _, err := daemon.ReadLastPass(daemon.LastPassFile(cfg.StateDir))
			if err != nil {
				return err
			}
			if last == nil {
				last = &daemon.LastPass{}
			}
			snap := status.Build(status.Inputs{
				Pass: last.Outcomes(), PassErr: last.Err(), PassAt: last.At, Infra: infra, Base: cfg.Infrastructure.Base, Catalog: cat,
				QueueDir: filepath.Join(cfg.StateDir, "queue"), Now: time.Now(),
			})
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
