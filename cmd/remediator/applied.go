package main

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// newAppliedCommand is what CI runs after `terraform apply` of a merge commit: it
// reports the applied check that verification waits for, under the name the merged
// remediation's artifact records (its runbook's or policy's applied_check).
func newAppliedCommand() *cobra.Command {
	var o appliedOptions
	cmd := &cobra.Command{
		Use:   "applied --config FILE --sha MERGE_COMMIT",
		Short: "Report that CI applied a merge commit (or failed to), for verification",
		Long: "Verification of a merged remediation starts only once its change is reported applied: CI runs this after " +
			"`terraform apply` of the merge commit. On the github forge it sets a commit status; on the local forge it appends " +
			"to the commit's checks note (" + records.ChecksRef + "). A commit that is not a remediation's merge is left " +
			"alone unless --check names the check.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runApplied(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringVar(&o.sha, "sha", "", "the merge commit CI applied (required)")
	cmd.Flags().StringVar(&o.check, "check", "", "the check to report (default: the applied_check the merged remediation records)")
	cmd.Flags().BoolVar(&o.failed, "failed", false, "report that the apply failed: the outcome becomes not-applied")
	cmd.Flags().StringVar(&o.keyFile, "key", "", "CI's SSH private key, which signs the report (local forge; listed for a principal of forge.check_reporters)")
	cmd.Flags().StringVar(&o.principal, "principal", "", "CI's principal in the allowed-signers file, when its key is listed under several")
	return cmd
}

// appliedOptions are the flags of `remediator applied`.
type appliedOptions struct {
	configFile, sha, check string
	keyFile, principal     string
	failed                 bool
}

func runApplied(cmd *cobra.Command, o appliedOptions) error {
	sha := o.sha
	if !plumbing.IsHash(sha) {
		return badInput(fmt.Errorf("--sha: want the merge commit's full 40-character hash, not %q", sha))
	}
	cfg, err := config.Load(o.configFile)
	if err != nil {
		return badInput(err)
	}
	ctx := cmd.Context()
	log := newLogger(cmd, logText)
	var rep reporter
	if cfg.Forge.Type == config.ForgeLocal {
		if rep, err = checkReporter(cfg, o.keyFile, o.principal); err != nil {
			return err
		}
	}
	infra, fg, err := openInfraUnsigned(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { _ = infra.Close() }()
	c, err := infra.Commit(plumbing.NewHash(sha))
	if err != nil {
		return badInput(fmt.Errorf("--sha %s: no such commit in %s: %w", sha, cfg.Infrastructure.Repository, err))
	}
	id := infrarepo.Trailers(c.Message)["Remediation-Id"]
	check := o.check
	if check == "" {
		if id == "" || c.NumParents() < 2 {
			fmt.Fprintf(cmd.OutOrStdout(), "%s is not a remediation's merge: nothing to report\n", sha[:12])
			return nil
		}
		if check, err = appliedCheck(infra, c, id); err != nil {
			return err
		}
	}
	state := forge.CheckSuccess
	if o.failed {
		state = forge.CheckFailure
	}
	if prs := fg.PullRequests(); prs != nil {
		desc := "applied"
		if o.failed {
			desc = "the apply failed"
		}
		err = prs.ReportCheck(ctx, sha, check, state, desc)
	} else {
		err = rep.record(ctx, infra, c.Hash, check, state)
	}
	if err != nil {
		return err
	}
	log.Info("apply reported", "sha", sha, "check", check, "state", state, "remediation_id", id)
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s on %s\n", state, check, sha[:12])
	return nil
}

// appliedCheck is the check the merged remediation's artifact waits for.
func appliedCheck(infra *infrarepo.Repo, c *object.Commit, id string) (string, error) {
	sha := c.Hash.String()
	data, err := infra.ReadFile(c.Hash, artifact.Path(id))
	if err != nil {
		return "", badInput(fmt.Errorf("--sha %s: the merge of %s carries no artifact: %w", sha[:12], id, err))
	}
	art, err := artifact.Decode(data)
	if err != nil {
		return "", badInput(fmt.Errorf("--sha %s: artifact %s: %w", sha[:12], artifact.Path(id), err))
	}
	return art.Verify.Check(), nil
}
