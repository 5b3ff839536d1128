package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

type auditOptions struct {
	repository, base, since, format, tokenEnv string
	// verify only: what the history is checked against.
	configFile, remediatorKey, allowedSigners string
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
		Long: "Findings: a merged head the remediator did not make (changed by a person), a merge commit it did\n" +
			"not make, a merge that changed files beyond its artifact or a protected path, an artifact that\n" +
			"disagreed with the catalog published at the merge, fewer valid approvals than the policy required,\n" +
			"an Approved-by without a valid signed approval on the proposal head (unsigned, unknown key, another\n" +
			"principal), a required reviewer or team member missing, an artifact changed outside the merge of its\n" +
			"own proposal, no outcome after the verification window.\n\n" +
			"--config gives the remediator's key (signing.key_file, or state_dir's), the reviewers' keys\n" +
			"(forge.allowed_signers_file), forge.teams and the catalog; --remediator-key and --allowed-signers\n" +
			"name the keys without a configuration. A check whose input is missing is not made, and said so.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			trust, skipped, err := auditTrust(cmd.Context(), o)
			if err != nil {
				return err
			}
			for _, s := range skipped {
				fmt.Fprintln(cmd.ErrOrStderr(), "audit verify: not checked: "+s)
			}
			l, repo, cleanup, err := buildLedgerRepo(cmd.Context(), o, trust.Remediator)
			if err != nil {
				return err
			}
			defer cleanup()
			findings := l.Verify(repo, trust)
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
	verify.Flags().StringVar(&o.configFile, "config", "", "the remediator's configuration: its key, the reviewers' keys, teams and catalog")
	verify.Flags().StringVar(&o.remediatorKey, "remediator-key", "", "the remediator's public key (an OpenSSH .pub file)")
	verify.Flags().StringVar(&o.allowedSigners, "allowed-signers", "", "the reviewers' keys, in Git's allowed-signers format")
	cmd.AddCommand(verify)
	return cmd
}

func buildLedger(ctx context.Context, o auditOptions) (*audit.Ledger, error) {
	l, _, cleanup, err := buildLedgerRepo(ctx, o, nil)
	if err != nil {
		return nil, err
	}
	cleanup()
	return l, nil
}

// buildLedgerRepo builds the ledger and keeps the repository open for the checks
// that read more of it; cleanup closes it.
// With the remediator's key, --since stops only at a merge the remediator signed:
// dates anyone else wrote are claims.
func buildLedgerRepo(ctx context.Context, o auditOptions, remediator ssh.PublicKey) (*audit.Ledger, *git.Repository, func(), error) {
	if o.repository == "" {
		return nil, nil, nil, badInput(fmt.Errorf("--repository is required: a path or URL of the infrastructure repository"))
	}
	var since time.Time
	if o.since != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, o.since); err != nil {
			if since, err = time.Parse("2006-01-02", o.since); err != nil {
				return nil, nil, nil, badInput(fmt.Errorf("--since %q: want a date (2026-01-31) or an RFC 3339 time", o.since))
			}
		}
	}
	dir, cleanup, err := auditDir(ctx, o)
	if err != nil {
		return nil, nil, nil, err
	}
	fail := func(err error) (*audit.Ledger, *git.Repository, func(), error) {
		cleanup()
		return nil, nil, nil, err
	}
	// A handle for the commit walk, and one per tree worker: the artifact trees are
	// compared in parallel with the walk.
	repo, err := audit.Open(dir)
	if err != nil {
		return fail(badInput(fmt.Errorf("--repository %s: %w", o.repository, err)))
	}
	trees := make([]*git.Repository, auditWorkers())
	for i := range trees {
		if trees[i], err = audit.Open(dir); err != nil {
			return fail(badInput(fmt.Errorf("--repository %s: %w", o.repository, err)))
		}
	}
	l, err := audit.BuildSince(repo, trees, o.base, audit.Since{At: since, Remediator: remediator}, time.Now())
	if err != nil {
		return fail(badInput(err))
	}
	return l, repo, cleanup, nil
}

// auditTrust gathers what audit verify checks the history against, and names each
// check it cannot make for want of its input.
func auditTrust(ctx context.Context, o auditOptions) (audit.Trust, []string, error) {
	var t audit.Trust
	keyFile, signersFile := o.remediatorKey, o.allowedSigners
	if o.configFile != "" {
		cfg, err := config.Load(o.configFile)
		if err != nil {
			return t, nil, badInput(err)
		}
		if keyFile == "" {
			keyFile = cfg.SigningKeyFile() + ".pub"
		}
		if signersFile == "" {
			signersFile = cfg.Forge.AllowedSignersFile
		}
		t.Teams = cfg.Forge.Teams
		t.Reporters = cfg.Forge.CheckReporters
		store, err := catalogstore.Open(ctx, catalogstore.Options{
			Repository: cfg.Catalog.Repository, Branch: cfg.Catalog.Branch, Directory: cfg.Catalog.Directory,
			Token: config.Secret(cfg.Catalog.TokenEnv),
		})
		if err != nil {
			return t, nil, err
		}
		t.CatalogAt = func(at time.Time) (*runbooks.Catalog, error) {
			snap, err := store.SnapshotAsOf(ctx, at)
			if err != nil {
				return nil, err
			}
			return snap.Catalog()
		}
	}
	var skipped []string
	if keyFile != "" {
		pub, err := signing.LoadPublicKey(keyFile)
		if err != nil {
			return t, nil, badInput(fmt.Errorf("the remediator's public key: %w", err))
		}
		t.Remediator = pub
	} else {
		skipped = append(skipped, "who made the proposal heads and merges (give --config or --remediator-key)")
	}
	if signersFile != "" {
		as, err := signing.LoadAllowedSigners(signersFile)
		if err != nil {
			return t, nil, badInput(err)
		}
		t.Reviewers = as
	} else {
		skipped = append(skipped, "signed approvals on the local forge: none counts (give --config or --allowed-signers)")
	}
	if t.CatalogAt == nil {
		skipped = append(skipped, "the artifacts against the catalog (give --config)")
	}
	return t, skipped, nil
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

// auditWorkers is how many tree workers the audit runs beside its walk: one per CPU
// (at least one, at most four: each holds its own pack indexes).
func auditWorkers() int {
	if n, err := strconv.Atoi(os.Getenv("REMEDIATOR_AUDIT_WORKERS")); err == nil && n > 0 {
		return n
	}
	return max(1, min(runtime.GOMAXPROCS(0), 4))
}
