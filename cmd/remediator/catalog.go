package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitauth"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

func newCatalogCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "catalog", Short: "Work with a runbook catalog"}
	cmd.AddCommand(newCatalogValidateCommand())
	return cmd
}

func newCatalogValidateCommand() *cobra.Command {
	var (
		directory  string
		repository string
		ref        string
		configFile string
	)
	cmd := &cobra.Command{
		Use:   "validate [PATH]",
		Short: "Validate every runbook and policy of a catalog",
		Long: "Validate the catalog in a checkout (PATH, default .) or, with --repository, in a Git repository at --ref.\n" +
			"Every problem is printed as file:line:column: field: message. Exit code 2 when the catalog is invalid.\n" +
			"With --config (local forge), a warning names each required reviewer or team member no line of\n" +
			"forge.allowed_signers_file names, so nobody can approve as them.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				cat   *runbooks.Catalog
				where string
				err   error
			)
			if repository != "" {
				if len(args) > 0 {
					return badInput(fmt.Errorf("give either PATH or --repository, not both"))
				}
				cat, where, err = validateRepository(cmd.Context(), repository, ref, directory)
			} else {
				dir := "."
				if len(args) > 0 {
					dir = args[0]
				}
				if st, statErr := os.Stat(dir); statErr != nil || !st.IsDir() {
					return badInput(fmt.Errorf("catalog path %q is not a directory", dir))
				}
				where = dir
				cat, err = runbooks.LoadFS(os.DirFS(dir), directory)
			}
			if err != nil {
				if errs := (runbooks.Errors)(nil); errors.As(err, &errs) {
					for _, e := range errs {
						fmt.Fprintln(cmd.ErrOrStderr(), e.Error())
					}
					return badInput(fmt.Errorf("catalog in %s is invalid: %d problem(s)", where, len(errs)))
				}
				return badInput(err)
			}
			if _, err := runbooks.NewRouter(cat); err != nil {
				return badInput(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "catalog in %s is valid: %d runbook(s), %d polic(ies)\n", where, len(cat.Runbooks), len(cat.Policies))
			return warnUnreachableReviewers(cmd, configFile, cat)
		},
	}
	cmd.Flags().StringVar(&directory, "directory", catalogstore.DefaultDirectory, "catalog directory inside the checkout or repository")
	cmd.Flags().StringVar(&repository, "repository", "", "validate this repository (path or URL) instead of a checkout; token in REMEDIATION_GIT_TOKEN")
	cmd.Flags().StringVar(&ref, "ref", "", "branch, tag or commit to validate (default: main)")
	cmd.Flags().StringVar(&configFile, "config", "", "the remediator's configuration: on the local forge, warn about required reviewers its allowed-signers file cannot name")
	return cmd
}

// warnUnreachableReviewers prints a warning for each reviewer the catalog requires
// that nobody in the configuration's allowed-signers file can be (local forge).
func warnUnreachableReviewers(cmd *cobra.Command, configFile string, cat *runbooks.Catalog) error {
	if configFile == "" {
		return nil
	}
	cfg, err := config.Load(configFile)
	if err != nil {
		return badInput(err)
	}
	if cfg.Forge.Type != config.ForgeLocal {
		return nil
	}
	as, err := allowedSigners(cfg)
	if err != nil {
		return err
	}
	for _, w := range records.UnreachableReviewers(cat, as, cfg.Forge.Teams) {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+w)
	}
	return nil
}

func validateRepository(ctx context.Context, repository, ref, directory string) (*runbooks.Catalog, string, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	store, err := catalogstore.Open(ctx, catalogstore.Options{
		Repository: repository, Directory: directory, Token: os.Getenv("REMEDIATION_GIT_TOKEN"),
		SSHPrivateKey: os.Getenv("REMEDIATION_SSH_PRIVATE_KEY"),
	})
	if err != nil {
		return nil, "", err
	}
	snap, err := store.SnapshotAt(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	where := gitauth.RedactURL(repository) + "@" + snap.Head
	cat, err := snap.Catalog()
	return cat, where, err
}
