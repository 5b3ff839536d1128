package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
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
			cat, router, err := loadCatalog(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			d := decision.Decide(router, runbooks.Anomaly{Labels: labels, Annotations: annotations, Value: value})
			out := routed{Decision: d}
			if d.Acting != nil {
				out.Autonomy, out.RecordError = autonomyOf(cmd, cfg, cat, d)
				out.Need = needOf(cat, d, out)
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			printDecision(cmd.OutOrStdout(), out)
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

// routed is the route command's answer: the decision, and the acting runbook's
// earned autonomy read from the infrastructure repository's outcome notes.
type routed struct {
	decision.Decision
	Autonomy    *records.Autonomy `json:"autonomy,omitempty"`
	RecordError string            `json:"record_error,omitempty"`
	// Need is what the proposal will need to merge: reconcile's answer
	// (records.NeedOf), not the policy's bare count for the risk.
	Need *records.Need `json:"need,omitempty"`
}

// needOf is what the acting runbook's proposal needs, from the record read for its
// autonomy; a record that could not be read leaves it needing a person.
func needOf(cat *runbooks.Catalog, d decision.Decision, out routed) *records.Need {
	pol := cat.Policy(d.Policy)
	if pol == nil {
		pol = runbooks.DefaultPolicy()
	}
	// A record not read needs a person; NeedOf says so in the need.
	n, _ := records.NeedOf(pol, runbooks.Risk(d.Acting.Risk), func() (records.Record, error) {
		if out.Autonomy == nil {
			return records.Record{}, errors.New(out.RecordError)
		}
		return out.Autonomy.Record, nil
	})
	return &n
}

// autonomyOf reads the acting runbook's record; a repository that cannot be read
// leaves the routing answer intact and says so.
func autonomyOf(cmd *cobra.Command, cfg *config.Config, cat *runbooks.Catalog, d decision.Decision) (*records.Autonomy, string) {
	h, closeRepo, err := recordHistory(cmd.Context(), cfg)
	if err != nil {
		return nil, err.Error()
	}
	defer closeRepo()
	pol := cat.Policy(d.Policy)
	if pol == nil {
		pol = runbooks.DefaultPolicy()
	}
	a, err := h.AutonomyOf(cat.Runbook(d.Acting.Runbook), pol)
	if err != nil {
		return nil, err.Error()
	}
	return &a, ""
}

func printDecision(w io.Writer, out routed) {
	d := out.Decision
	fmt.Fprintf(w, "policy: %s\n", d.Policy)
	if a := d.Acting; a != nil {
		auto := "no"
		switch {
		case out.Autonomy != nil && out.Autonomy.MayAutoMerge:
			auto = "yes, earned"
		case out.Autonomy != nil && a.AutoMerge:
			auto = "not yet: " + out.Autonomy.Reason
		case a.AutoMerge:
			auto = fmt.Sprintf("after %d verified run(s) in a row of this version (record unknown: %s)", a.MinVerifiedRuns, out.RecordError)
		}
		fmt.Fprintf(w, "acting: %s (risk %s, target %q)\n  proposal %s on branch %s\n  approvals required: %d, auto-merge: %s\n",
			a.Runbook, a.Risk, a.Target, a.ID, a.Branch, out.Need.Approvals, auto)
		if n := out.Need; n.Why != "" || len(n.Reviewers) > 0 || len(n.Checks) > 0 {
			fmt.Fprintf(w, "  needs: %s\n", n)
		}
		if r := out.Autonomy; r != nil {
			fmt.Fprintf(w, "  record of version %s: %d verified in a row; %d verified, %d failed, %d not applied, %d pending\n",
				r.Record.Version, r.Record.Streak, r.Record.Verified, r.Record.Failed, r.Record.NotApplied, r.Record.Pending)
		}
	} else {
		fmt.Fprintln(w, "acting: none: no enabled runbook handles this anomaly")
	}
	if len(d.Items) == 0 {
		return
	}
	fmt.Fprintln(w, "runbooks:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, it := range d.Items {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", it.Runbook, it.Disposition, it.Reason)
	}
	_ = tw.Flush()
}
