package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/notify"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
)

func newProposeCommand() *cobra.Command {
	var o proposeOptions
	cmd := &cobra.Command{
		Use:   "propose --config FILE --anomaly FILE|-",
		Short: "Propose the remediation of an anomaly, once, and exit",
		Long: "Reads an anomaly (Alertmanager webhook or generic JSON), routes it through the catalog and pushes the\n" +
			"proposal branch remediation/<id> to the infrastructure repository. Exit 0 also when nothing matches.\n" +
			"The configured notification receivers are told of a proposal it opens, as serve tells them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPropose(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringVar(&o.anomaly, "anomaly", "", "anomaly file, or - for standard input")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "push nothing; print the diff")
	cmd.Flags().StringVar(&o.output, "output", "text", "text or json")
	_ = cmd.MarkFlagRequired("anomaly")
	return cmd
}

// proposeOptions are the flags of `remediator propose`.
type proposeOptions struct {
	configFile, anomaly, output string
	dryRun                      bool
}

func runPropose(cmd *cobra.Command, o proposeOptions) error {
	if o.output != "text" && o.output != "json" {
		return badInput(fmt.Errorf("--output: want text or json, not %q", o.output))
	}
	body, err := readAnomaly(cmd.InOrStdin(), o.anomaly)
	if err != nil {
		return badInput(err)
	}
	anomalies, err := intake.Parse(body, time.Now())
	if err != nil {
		return badInput(fmt.Errorf("anomaly %s: %w", o.anomaly, err))
	}
	cfg, err := config.Load(o.configFile)
	if err != nil {
		return badInput(err)
	}
	ctx := cmd.Context()
	cat, router, err := loadCatalog(ctx, cfg)
	if err != nil {
		return err
	}
	logger := newLogger(cmd, logText)
	notifier, err := newNotifier(cfg, logger, nil)
	if err != nil {
		return err
	}
	infra, fg, err := openInfra(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { _ = infra.Close() }()
	p := &propose.Proposer{
		Catalog: cat, Router: router, Infra: infra, Forge: fg, Base: cfg.Infrastructure.Base,
		AuthorName: cfg.Infrastructure.AuthorName, AuthorEmail: cfg.Infrastructure.AuthorEmail,
		Now: time.Now, Logger: logger, Limits: proposalLimits(cfg), Tracer: tracing.Tracer(tracing.Provider(ctx)),
	}
	facts := notify.Facts{Infra: infra, Base: cfg.Infrastructure.Base, Catalog: cat, StatusURL: cfg.Notify.StatusURL, Now: time.Now}
	var results []propose.Result
	defer flushNotifications(ctx, notifier)
	for _, a := range anomalies {
		res, err := p.Propose(ctx, a, o.dryRun)
		if err != nil {
			var ie *propose.InputError
			if errors.As(err, &ie) {
				return badInput(err)
			}
			return err
		}
		if e, ok := facts.Proposal(res, a); ok && !o.dryRun {
			notifier.Tell(ctx, claimsOf(cfg, infra), []notify.Event{e}, nil)
		}
		results = append(results, res)
	}
	return printResults(cmd.OutOrStdout(), results, o.output)
}

func readAnomaly(stdin io.Reader, name string) ([]byte, error) {
	const limit = 1 << 20
	var r io.Reader
	if name == "-" {
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("anomaly: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("anomaly: %w", err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("anomaly: more than %d bytes", limit)
	}
	return b, nil
}

func printResults(w io.Writer, results []propose.Result, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range results {
		if r.Runbook == "" {
			fmt.Fprintf(w, "%s: %s\n", r.Action, r.Reason)
			continue
		}
		fmt.Fprintf(w, "%s: %s (runbook %s, risk %s, policy %s)", r.Action, r.Branch, r.Runbook, r.Risk, r.Policy)
		if r.Reason != "" {
			fmt.Fprintf(w, ": %s", r.Reason)
		}
		fmt.Fprintln(w)
		if r.URL != "" && r.URL != r.Branch {
			fmt.Fprintf(w, "  review: %s\n", r.URL)
		}
		if r.Diff != "" {
			fmt.Fprintln(w, r.Diff)
		}
	}
	return nil
}

// proposalLimits are the configuration's bounds on proposals over every policy.
func proposalLimits(cfg *config.Config) decision.Bounds {
	l := cfg.Limits
	return decision.Bounds{MaxOpen: l.MaxOpen, PerHour: l.PerHour, MaxOpenPerRunbook: l.MaxOpenPerRunbook, PerHourPerRunbook: l.PerHourPerRunbook,
		Lease: l.ReservationLease.Std()}
}
