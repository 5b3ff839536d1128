package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// planCheckOptions are plan-check's flags.
type planCheckOptions struct {
	plan, artifact, repo, base, format string
	comment                            bool
	config, sha                        string
	pr                                 int
	// key and principal sign the report on the local forge (CI's identity).
	key, principal string
	// catalog is a catalog repository to check against, without a configuration.
	catalog, catalogBranch, catalogDir string
	configSet                          bool
}

func newPlanCheckCommand() *cobra.Command {
	var o planCheckOptions
	cmd := &cobra.Command{
		Use:   "plan-check --plan PLAN.json [--artifact PATH | --repo DIR --base REF]",
		Short: "Check a terraform plan against the remediation's runbook and policy limits",
		Long: "Reads `terraform show -json PLANFILE` (Terraform or OpenTofu), finds the remediation artifact (given, or\n" +
			"from the change against --base), and checks every planned change against the limits of its runbook and\n" +
			"policy in the catalog (of --config, or the repository --catalog): the artifact only names them, and\n" +
			"limits it records that differ from the catalog's are a violation of their own (catalog-mismatch).\n" +
			"Without a catalog the artifact's limits are shown, marked unchecked; --comment needs the catalog.\n" +
			"Exit 0 pass (also for a change that is not a remediation), 1 violations, 2 bad input.\n" +
			"With --comment it reports the result as the check remediation/plan-check on the head commit (--sha, or\n" +
			"HEAD of --repo), where the forge of --config keeps checks: on GitHub one pull request comment, kept up\n" +
			"to date, and a commit status (needs --pr); on the local forge a line in the commit's note under\n" +
			"refs/notes/remediation-checks. A policy's required_checks are read from there before a merge.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.configSet = cmd.Flags().Changed("config")
			return planCheck(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.plan, "plan", "", "the JSON of `terraform show -json PLANFILE`, or - for standard input")
	f.StringVar(&o.artifact, "artifact", "", "the remediation artifact (.remediations/<id>.yaml)")
	f.StringVar(&o.repo, "repo", ".", "the checked-out infrastructure repository, to find the artifact in the change")
	f.StringVar(&o.base, "base", "main", "the branch the change merges into")
	f.StringVar(&o.format, "format", "markdown", "markdown or json")
	f.BoolVar(&o.comment, "comment", false, "report the result as the check remediation/plan-check on the head commit")
	f.StringVar(&o.config, "config", "remediator.yaml", "configuration naming the github forge (with --comment)")
	f.IntVar(&o.pr, "pr", 0, "pull request number (with --comment)")
	f.StringVar(&o.catalog, "catalog", "", "the catalog repository (path or URL) to check against, instead of --config's")
	f.StringVar(&o.catalogBranch, "catalog-branch", catalogstore.DefaultBranch, "the catalog's branch (with --catalog)")
	f.StringVar(&o.catalogDir, "catalog-directory", catalogstore.DefaultDirectory, "the catalog's directory (with --catalog)")
	f.StringVar(&o.sha, "sha", "", "head commit the status is set on (with --comment; default HEAD of --repo)")
	f.StringVar(&o.key, "key", "", "CI's SSH private key, which signs the report (with --comment on the local forge)")
	f.StringVar(&o.principal, "principal", "", "CI's principal in the allowed-signers file, when its key is listed under several")
	return cmd
}

func planCheck(cmd *cobra.Command, o planCheckOptions) error {
	oneShotGC()
	if o.plan == "" {
		return badInput(errors.New("--plan is required: the output of `terraform show -json PLANFILE`"))
	}
	if o.format != "markdown" && o.format != "json" {
		return badInput(fmt.Errorf("--format: want markdown or json, not %q", o.format))
	}
	var dest *commentDest
	if o.comment {
		// Checked before anything is read, so a wrong flag costs no catalog fetch.
		var err error
		if dest, err = commentDestOf(o); err != nil {
			return err
		}
	}
	data, err := readPlan(cmd.InOrStdin(), o.plan)
	if err != nil {
		return badInput(err)
	}
	plan, err := plancheck.Parse(o.plan, data)
	if err != nil {
		return badInput(err)
	}
	var a *artifact.Artifact
	if o.artifact != "" {
		if a, err = plancheck.ReadArtifact(o.artifact); err != nil {
			return badInput(err)
		}
	} else {
		found := false
		if a, _, found, err = plancheck.FindArtifact(o.repo, o.base); err != nil {
			return badInput(err)
		}
		if !found {
			a = nil
		}
	}
	var res *plancheck.Result
	if a == nil {
		res = plancheck.NotARemediation(plan)
	} else if res, err = checkAgainstCatalog(cmd, o, plan, a); err != nil {
		return err
	}
	if o.format == "json" {
		err = res.JSON(cmd.OutOrStdout())
	} else {
		err = res.Markdown(cmd.OutOrStdout())
	}
	if err != nil {
		return err
	}
	if dest != nil {
		if err := postPlanCheck(cmd, o, dest, res); err != nil {
			return err
		}
	}
	if !res.Passed() {
		return &exitError{code: exitCheckFailed, err: fmt.Errorf("plan-check: %d violation(s) of the limits of remediation %s", len(res.Violations), res.ID)}
	}
	return nil
}

// checkAgainstCatalog checks the plan against the limits the catalog sets for the
// artifact's runbook and policy. Without a catalog it shows the artifact's own limits,
// marked unchecked, and refuses to report them as the check.
func checkAgainstCatalog(cmd *cobra.Command, o planCheckOptions, plan *plancheck.Plan, a *artifact.Artifact) (*plancheck.Result, error) {
	cat, router, err := planCheckCatalog(cmd, o)
	if err != nil {
		return nil, err
	}
	if cat == nil {
		if o.comment {
			return nil, badInput(errors.New("--comment reports the gate's check: give the catalog to check against (--config or --catalog)"))
		}
		res := plancheck.Check(plan, a)
		res.Note = "limits read from the artifact, which anyone who can push to the branch can edit: not checked against the catalog (give --config or --catalog)"
		return res, nil
	}
	terms, refusal := records.TermsOf(cat, router, a.ID, a)
	if refusal == nil {
		return plancheck.CheckWith(plan, a, terms.Limits), nil
	}
	// The catalog's limits where it has them (an artifact that only claims others),
	// none otherwise (the runbook is gone): either way the mismatch fails the check.
	res := plancheck.CheckWith(plan, a, terms.Limits)
	res.Violations = append([]plancheck.Violation{{Rule: plancheck.RuleCatalog, Reason: refusal.Reason}}, res.Violations...)
	return res, nil
}

// planCheckCatalog loads the catalog named by --catalog or an explicit --config;
// nil when neither is given.
func planCheckCatalog(cmd *cobra.Command, o planCheckOptions) (*runbooks.Catalog, *runbooks.Router, error) {
	switch {
	case o.catalog != "":
		store, err := catalogstore.Open(cmd.Context(), catalogstore.Options{Repository: o.catalog, Branch: o.catalogBranch, Directory: o.catalogDir})
		if err != nil {
			return nil, nil, badInput(fmt.Errorf("--catalog %s: %w", o.catalog, err))
		}
		snap, err := store.Snapshot(cmd.Context())
		if err != nil {
			return nil, nil, err
		}
		cat, err := snap.Catalog()
		if err != nil {
			return nil, nil, badInput(fmt.Errorf("--catalog %s: %w", o.catalog, err))
		}
		router, err := runbooks.NewRouter(cat)
		if err != nil {
			return nil, nil, badInput(err)
		}
		return cat, router, nil
	case o.configSet:
		cfg, err := config.Load(o.config)
		if err != nil {
			return nil, nil, badInput(err)
		}
		return loadCatalog(cmd.Context(), cfg)
	}
	return nil, nil, nil
}

// oneShotGC lets a plan-check process run without collecting until its heap nears
// 256 MiB: a check allocates a few times its plan's size and exits, and collecting at
// 4, 8 and 16 MiB on the way was a sixth of its time. A GOGC or GOMEMLIMIT the user
// set is left as it is.
func oneShotGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(256 << 20)
	debug.SetGCPercent(-1)
}

func readPlan(stdin io.Reader, name string) ([]byte, error) {
	r := stdin
	// A file is read into one buffer of its size: io.ReadAll doubles its way up to
	// a large plan, zeroing and copying each step (a sixth of a 10,000-resource
	// check).
	size := int64(bytes.MinRead)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read plan: %w", err)
		}
		defer f.Close()
		r = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size += min(fi.Size(), plancheck.MaxPlanBytes)
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(r, plancheck.MaxPlanBytes+1)); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	return buf.Bytes(), nil
}
