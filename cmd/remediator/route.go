package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

func newRouteCommand() *cobra.Command {
	var (
		configFile  string
		labels      map[string]string
		annotations map[string]string
		value       float64
		output      string
	)
	cmd := &cobra.Command{
		Use:   "route --config FILE --labels k=v,...",
		Short: "Print what the remediator would decide for an anomaly, without acting",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(labels) == 0 {
				return badInput(fmt.Errorf("--labels: give the anomaly's labels, such as alertname=HighLatency,service=api"))
			}
			if output != "text" && output != "json" {
				return badInput(fmt.Errorf("--output: want text or json, not %q", output))
			}
			cfg, err := config.Load(configFile)
			if err != nil {
				return badInput(err)
			}
			_, router, err := loadCatalog(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			d := decision.Decide(router, runbooks.Anomaly{Labels: labels, Annotations: annotations, Value: value})
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(d)
			}
			printDecision(cmd.OutOrStdout(), d)
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringToStringVar(&labels, "labels", nil, "anomaly labels, k=v,...")
	cmd.Flags().StringToStringVar(&annotations, "annotations", nil, "anomaly annotations, k=v,...")
	cmd.Flags().Float64Var(&value, "value", 0, "anomaly value, as CEL conditions see it")
	cmd.Flags().StringVar(&output, "output", "text", "text or json")
	return cmd
}

func printDecision(w io.Writer, d decision.Decision) {
	fmt.Fprintf(w, "policy: %s\n", d.Policy)
	if a := d.Acting; a != nil {
		auto := "no"
		if a.AutoMerge {
			auto = fmt.Sprintf("yes, after %d verified run(s)", a.MinVerifiedRuns)
		}
		fmt.Fprintf(w, "acting: %s (risk %s, target %q)\n  proposal %s on branch %s\n  approvals required: %d, auto-merge: %s\n",
			a.Runbook, a.Risk, a.Target, a.ID, a.Branch, a.RequiredApprovals, auto)
	} else {
		fmt.Fprintln(w, "acting: none: no enabled runbook handles this anomaly")
	}
	if len(d.Items) == 0 {
		return
	}
	fmt.Fprintln(w, "runbooks:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, it := range d.Items {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", it.Runbook, it.Outcome, it.Reason)
	}
	_ = tw.Flush()
}
