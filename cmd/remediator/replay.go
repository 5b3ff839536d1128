package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/replay"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

type replayOptions struct {
	config, catalog, compare, format string
	prometheus, from, to             string
	step                             time.Duration
	webhooks                         []string
	events                           string
	record                           bool
}

func newReplayCommand() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay --config FILE (--prometheus URL --from T | --webhooks FILE... | --events FILE) [--catalog REF|DIR] [--compare REF|DIR]",
		Short: "Replay historical anomalies against a catalog: what would it have done?",
		Long: "Plays past anomalies against a catalog on a simulated clock, with the live loop's rules: routing, dedupe, " +
			"cooldown, policy and remediator limits, circuit breakers, change and freeze windows, approvals and earned auto-merge. " +
			"Nothing is pushed. Anomalies come from Prometheus (ALERTS{alertstate=\"firing\"} over --from..--to), Alertmanager " +
			"webhook payload files, or JSON lines in the generic format with starts_at (and ends_at when resolved). A merged " +
			"remediation is taken as verified unless its anomaly carries the annotation " + replay.OutcomeAnnotation + ": failed. " +
			"Each runbook's streak of verified runs starts from its current version's record in the infrastructure repository " +
			"(--record=false starts from none).\n\n" +
			"--catalog is the published branch by default, or another ref of the catalog repository, or a directory holding " +
			"a checkout (a catalog pull request); --compare REF|DIR replays a second catalog and shows the difference.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReplay(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "remediator.yaml", "configuration file")
	f.StringVar(&o.catalog, "catalog", "", "catalog to replay: a ref of the catalog repository or a checkout directory (default: the published branch)")
	f.StringVar(&o.compare, "compare", "", "a second catalog (ref or directory) to compare with: the baseline")
	f.StringVar(&o.format, "format", replay.FormatTable, "table, markdown (for a pull request comment) or json")
	f.StringVar(&o.prometheus, "prometheus", "", "Prometheus base URL to read ALERTS history from")
	f.StringVar(&o.from, "from", "", "start of the period: RFC 3339, or a duration before --to such as 30d")
	f.StringVar(&o.to, "to", "", "end of the period: RFC 3339 (default: now)")
	f.DurationVar(&o.step, "step", time.Minute, "resolution of the ALERTS history")
	f.StringSliceVar(&o.webhooks, "webhooks", nil, "Alertmanager webhook payload files (globs allowed)")
	f.StringVar(&o.events, "events", "", "a JSON lines file of anomalies in the generic format")
	f.BoolVar(&o.record, "record", true, "start each runbook's verified streak from its record in the infrastructure repository")
	return cmd
}

func runReplay(cmd *cobra.Command, o replayOptions) error {
	switch o.format {
	case replay.FormatTable, replay.FormatMarkdown, replay.FormatJSON:
	default:
		return badInput(fmt.Errorf("--format: want table, markdown or json, not %q", o.format))
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return badInput(err)
	}
	ctx := cmd.Context()
	anomalies, end, err := replayAnomalies(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "replaying %d anomalies\n", len(anomalies))
	run := replayRun{cmd: cmd, cfg: cfg, record: o.record, anomalies: anomalies, end: end}
	head, err := run.against(ctx, o.catalog)
	if err != nil {
		return err
	}
	if o.compare == "" {
		return head.Write(cmd.OutOrStdout(), o.format)
	}
	base, err := run.against(ctx, o.compare)
	if err != nil {
		return err
	}
	c, err := replay.Compare(base, head)
	if err != nil {
		return err
	}
	return c.Write(cmd.OutOrStdout(), o.format)
}

// replayAnomalies reads the one source given, and the end of the period.
func replayAnomalies(ctx context.Context, o replayOptions) ([]intake.Anomaly, time.Time, error) {
	given := 0
	for _, set := range []bool{o.prometheus != "", len(o.webhooks) > 0, o.events != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, time.Time{}, badInput(errors.New("give exactly one source: --prometheus URL --from T, --webhooks FILE..., or --events FILE"))
	}
	to := time.Now().UTC()
	if o.to != "" {
		t, err := time.Parse(time.RFC3339, o.to)
		if err != nil {
			return nil, time.Time{}, badInput(fmt.Errorf("--to: want RFC 3339 such as 2026-11-01T00:00:00Z: %w", err))
		}
		to = t
	}
	switch {
	case o.prometheus != "":
		from, err := replayFrom(o.from, to)
		if err != nil {
			return nil, time.Time{}, err
		}
		as, err := replay.Prometheus{URL: o.prometheus, From: from, To: to, Step: o.step}.Fetch(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		return as, to, nil
	case o.events != "":
		f, err := os.Open(o.events)
		if err != nil {
			return nil, time.Time{}, badInput(fmt.Errorf("--events: %w", err))
		}
		defer f.Close()
		as, err := replay.FromJSONLines(o.events, f)
		if err != nil {
			return nil, time.Time{}, badInput(err)
		}
		return as, to, nil
	default:
		files := map[string][]byte{}
		for _, pattern := range o.webhooks {
			names, err := filepath.Glob(pattern)
			if err != nil || len(names) == 0 {
				return nil, time.Time{}, badInput(fmt.Errorf("--webhooks %s: no such file", pattern))
			}
			for _, n := range names {
				data, err := os.ReadFile(n)
				if err != nil {
					return nil, time.Time{}, badInput(fmt.Errorf("--webhooks: %w", err))
				}
				files[n] = data
			}
		}
		as, err := replay.FromWebhooks(files)
		if err != nil {
			return nil, time.Time{}, badInput(err)
		}
		return as, to, nil
	}
}

// replayFrom reads --from: a time, or a duration before to.
func replayFrom(s string, to time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, badInput(errors.New("--from is required with --prometheus: RFC 3339, or a duration before --to such as 30d"))
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if !t.Before(to) {
			return time.Time{}, badInput(fmt.Errorf("--from %s is not before --to %s", s, to.Format(time.RFC3339)))
		}
		return t, nil
	}
	d, err := runbooks.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, badInput(fmt.Errorf("--from %q: want RFC 3339 or a duration such as 30d", s))
	}
	return to.Add(-d.Std()), nil
}

// replayRun is one replay: the anomalies, the end of their period, and whether each
// runbook's record (its verified streak) is read from the infrastructure repository.
type replayRun struct {
	cmd       *cobra.Command
	cfg       *config.Config
	record    bool
	anomalies []intake.Anomaly
	end       time.Time
}

// against loads a catalog (the published branch, a ref or a directory) and replays
// the anomalies against it.
func (r replayRun) against(ctx context.Context, which string) (*replay.Report, error) {
	cmd, cfg := r.cmd, r.cfg
	cat, name, err := loadCatalogAt(ctx, cfg, which)
	if err != nil {
		return nil, err
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		return nil, badInput(fmt.Errorf("catalog %s: %w", name, err))
	}
	opts := replay.Options{Bounds: proposalLimits(cfg), Outcome: replay.OutcomeOf, End: r.end}
	if r.record {
		if opts.Streaks, err = streaks(ctx, cfg, cat); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "records unknown, every streak starts at 0: %v\n", err)
		}
	}
	return replay.NewReport(name, replay.Run(cat, router, r.anomalies, opts)), nil
}

// streaks are the runbooks' verified-in-a-row counts at their current version.
func streaks(ctx context.Context, cfg *config.Config, cat *runbooks.Catalog) (map[string]int, error) {
	h, closeRepo, err := recordHistory(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer closeRepo()
	recs, err := h.AllRecords()
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, rb := range cat.Runbooks {
		version, err := runbooks.Version(rb)
		if err != nil {
			return nil, err
		}
		out[rb.Metadata.Name] = recs.Of(rb.Metadata.Name, version).Streak
	}
	return out, nil
}
