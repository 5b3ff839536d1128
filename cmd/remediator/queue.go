package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
)

func newQueueCommand() *cobra.Command {
	var configFile, output string
	dir := func() (string, error) {
		cfg, err := config.Load(configFile)
		if err != nil {
			return "", badInput(err)
		}
		return filepath.Join(cfg.StateDir, "queue"), nil
	}
	cmd := &cobra.Command{
		Use:   "queue list|retry|drop --config FILE",
		Short: "Show the intake queue and its dead letters, queue a dead letter again, or drop it",
		Long: "The queue holds the anomalies serve accepted and has not handled yet; an anomaly that failed\n" +
			"again and again (an error or a crash each time) is moved to the dead letters with its error.\n" +
			"These commands may run beside serve: list reads, retry and drop act on dead letters only.",
	}
	cmd.PersistentFlags().StringVar(&configFile, "config", "remediator.yaml", "configuration file")
	list := &cobra.Command{
		Use:   "list",
		Short: "List queued anomalies and dead letters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return badInput(fmt.Errorf("--output: want text or json, not %q", output))
			}
			d, err := dir()
			if err != nil {
				return err
			}
			items, err := queue.List(d)
			if err != nil {
				return err
			}
			dead, err := queue.ListDead(d)
			if err != nil {
				return err
			}
			if output == "json" {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"queued": items, "dead": dead})
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "queued: %d\n", len(items))
			for _, it := range items {
				fmt.Fprintf(out, "  %s  %s  attempts %d  %s\n", it.ID, it.Queued.Format("2006-01-02T15:04:05Z"), it.Attempts, labels(it.Anomaly.Labels))
			}
			fmt.Fprintf(out, "dead letters: %d\n", len(dead))
			for _, dl := range dead {
				first, _, _ := strings.Cut(dl.Error, "\n")
				fmt.Fprintf(out, "  %s  %s  attempts %d  %s\n    error: %s\n", dl.Item.ID, dl.At.Format("2006-01-02T15:04:05Z"), dl.Item.Attempts, labels(dl.Item.Anomaly.Labels), first)
			}
			return nil
		},
	}
	list.Flags().StringVar(&output, "output", "text", "text or json")
	act := func(use, short string, do func(dir, id string) error, done string) *cobra.Command {
		return &cobra.Command{
			Use: use + " ID...", Short: short, Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, ids []string) error {
				d, err := dir()
				if err != nil {
					return err
				}
				for _, id := range ids {
					if err := do(d, id); err != nil {
						return badInput(fmt.Errorf("%s %s: %w", use, id, err))
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", done, id)
				}
				return nil
			},
		}
	}
	cmd.AddCommand(list,
		act("retry", "Queue dead letters again (serve takes them back on its next pass)", queue.RetryDead, "queued again"),
		act("drop", "Delete dead letters for good", queue.DropDead, "dropped"))
	return cmd
}

func labels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
