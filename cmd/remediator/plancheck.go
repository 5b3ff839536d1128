package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
)

// planCheckOptions are plan-check's flags.
type planCheckOptions struct {
	plan, artifact, repo, base, format string
	comment                            bool
	config, sha                        string
	pr                                 int
}

func newPlanCheckCommand() *cobra.Command {
	var o planCheckOptions
	cmd := &cobra.Command{
		Use:   "plan-check --plan PLAN.json [--artifact PATH | --repo DIR --base REF]",
		Short: "Check a terraform plan against the remediation's runbook and policy limits",
		Long: "Reads `terraform show -json PLANFILE` (Terraform or OpenTofu), finds the remediation artifact (given, or\n" +
			"from the change against --base), and checks every planned change against the limits it records.\n" +
			"Exit 0 pass (also for a change that is not a remediation), 1 violations, 2 bad input.\n" +
			"With --comment it reports the result as the check remediation/plan-check on the head commit (--sha, or\n" +
			"HEAD of --repo), where the forge of --config keeps checks: on GitHub one pull request comment, kept up\n" +
			"to date, and a commit status (needs --pr); on the local forge a line in the commit's note under\n" +
			"refs/notes/remediation-checks. A policy's required_checks are read from there before a merge.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return planCheck(cmd, o) },
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
	f.StringVar(&o.sha, "sha", "", "head commit the status is set on (with --comment; default HEAD of --repo)")
	return cmd
}

func planCheck(cmd *cobra.Command, o planCheckOptions) error {
	if o.plan == "" {
		return badInput(errors.New("--plan is required: the output of `terraform show -json PLANFILE`"))
	}
	if o.format != "markdown" && o.format != "json" {
		return badInput(fmt.Errorf("--format: want markdown or json, not %q", o.format))
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
	} else {
		res = plancheck.Check(plan, a)
	}
	if o.format == "json" {
		err = res.JSON(cmd.OutOrStdout())
	} else {
		err = res.Markdown(cmd.OutOrStdout())
	}
	if err != nil {
		return err
	}
	if o.comment {
		if err := postPlanCheck(cmd, o, res); err != nil {
			return err
		}
	}
	if !res.Passed() {
		return &exitError{code: exitCheckFailed, err: fmt.Errorf("plan-check: %d violation(s) of the limits of remediation %s", len(res.Violations), res.ID)}
	}
	return nil
}

func readPlan(stdin io.Reader, name string) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read plan: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, plancheck.MaxPlanBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	return data, nil
}
