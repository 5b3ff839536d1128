package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

type auditOptions struct {
	repository, base, since, format, tokenEnv string
}

func (o *auditOptions) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.repository, "repository", "", "the infrastructure repository: a path, or a URL to fetch (with its notes)")
	cmd.Flags().StringVar(&o.base, "base", "main", "the branch remediations merge into")
	cmd.Flags().StringVar(&o.since, "since", "", "only merges since this date (2026-01-31 or RFC 3339)")
	cmd.Flags().StringVar(&o.tokenEnv, "token-env", "", "environment variable holding an https token for a URL")
}

func newAuditCommand() *cobra.Command {
	var o auditOptions
	cmd := &cobra.Command{
		Use:   "audit --repository PATH|URL [--base main] [--since DATE] [--format table|json|markdown]",
		Short: "The remediation ledger, rebuilt from Git alone",
		Long: "Every remediation merged into the base: id, runbook and version, policy, risk, anomaly, approvers,\n" +
			"merged at and by, outcome (from refs/notes/remediation) and the remediation that rolled it back.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "table" && o.format != "json" && o.format != "markdown" {
				return badInput(fmt.Errorf("--format: want table, json or markdown, not %q", o.format))
			}
			l, err := buildLedger(cmd.Context(), o)
			if err != nil {
				return err
			}
			switch o.format {
			case "json":
				return l.JSON(cmd.OutOrStdout())
			case "markdown":
				return l.Markdown(cmd.OutOrStdout())
			}
			return l.Table(cmd.OutOrStdout())
		},
	}
	o.flags(cmd)
	cmd.Flags().StringVar(&o.format, "format", "table", "table, json or markdown")
	verify := &cobra.Command{
		Use:   "verify --repository PATH|URL [--base main] [--since DATE]",
		Short: "Flag remediations Git cannot account for; exit 1 with one line per finding",
		Long: "Findings: a merge with fewer valid approvals than its recorded policy required, an Approved-by trailer\n" +
			"with no approval recorded on the proposal head, an artifact changed outside the merge of its own\n" +
			"proposal, a merged remediation with no outcome after its verification window.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := buildLedger(cmd.Context(), o)
			if err != nil {
				return err
			}
			findings := l.Verify()
			for _, f := range findings {
				fmt.Fprintln(cmd.OutOrStdout(), f.String())
			}
			if len(findings) > 0 {
				return &exitError{code: exitCheckFailed, err: fmt.Errorf("audit verify: %d finding(s) in %d merged remediation(s)", len(findings), len(l.Entries))}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit verify: %d merged remediation(s), no findings\n", len(l.Entries))
			return nil
		},
	}
	o.flags(verify)
	cmd.AddCommand(verify)
	return cmd
}

func buildLedger(ctx context.Context, o auditOptions) (*audit.Ledger, error) {
	if o.repository == "" {
		return nil, badInput(fmt.Errorf("--repository is required: a path or URL of the infrastructure repository"))
	}
	var since time.Time
	if o.since != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, o.since); err != nil {
			if since, err = time.Parse("2006-01-02", o.since); err != nil {
				return nil, badInput(fmt.Errorf("--since %q: want a date (2026-01-31) or an RFC 3339 time", o.since))
			}
		}
	}
	dir, cleanup, err := auditDir(ctx, o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	// Two handles: the commit walk and the artifact-tree comparison run in parallel.
	repo, err := audit.Open(dir)
	if err != nil {
		return nil, badInput(fmt.Errorf("--repository %s: %w", o.repository, err))
	}
	trees, err := audit.Open(dir)
	if err != nil {
		return nil, badInput(fmt.Errorf("--repository %s: %w", o.repository, err))
	}
	l, err := audit.Build(repo, trees, o.base, since, time.Now())
	if err != nil {
		return nil, badInput(err)
	}
	return l, nil
}

// auditDir is the repository to read: a local path as it is, or a URL fetched
// (branches and notes) into a temporary mirror.
func auditDir(ctx context.Context, o auditOptions) (string, func(), error) {
	if !strings.Contains(o.repository, "://") && !strings.Contains(o.repository, "@") {
		return o.repository, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "remediator-audit-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	token := ""
	if o.tokenEnv != "" {
		token = os.Getenv(o.tokenEnv)
	}
	infra, err := infrarepo.Open(ctx, o.repository, token, dir)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return infra.MirrorDir(), func() { _ = infra.Close(); cleanup() }, nil
}
