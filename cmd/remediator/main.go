// Command remediator turns anomalies into reviewed Git changes. This file only wires
// the packages that do the work into a command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Set by goreleaser.
var (
	version = "dev"
	commit  = "none"
)

// Exit codes, as documented: 0 ok, 1 a check failed, 2 bad usage or bad input.
const (
	exitOK          = 0
	exitCheckFailed = 1
	exitBadInput    = 2
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func badInput(err error) error { return &exitError{code: exitBadInput, err: err} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "error:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// Cobra's own errors are usage errors: unknown command or flag, missing argument.
	return exitBadInput
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "remediator",
		Short: "Turn detected anomalies into reviewed, recorded Git changes",
		Long: "remediator routes anomalies to the runbooks of a catalog, proposes each fix as a pull request\n" +
			"on an infrastructure-as-code repository, and records every outcome in Git.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newVersionCommand(), newCatalogCommand(), newRouteCommand(), newProposeCommand(), newServeCommand(), newPlanCheckCommand(), newApproveCommand(), newReconcileCommand(), newAuditCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "remediator %s (commit %s)\n", version, commit)
			return nil
		},
	}
}
