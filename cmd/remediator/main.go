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
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
)

// Set by goreleaser.
var (
	version = "dev"
	commit  = "none"
)

// Exit codes, as documented in --help and the README: 0 ok, 1 a check failed (a
// policy violation, an audit finding), 2 bad usage or bad input, 3 a runtime failure
// (network, Git, forge: trying again may work).
const (
	exitOK          = 0
	exitCheckFailed = 1
	exitBadInput    = 2
	exitRuntime     = 3
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
	// Traces are exported when the standard OTEL_* variables ask for it.
	tp, shutdown, err := tracing.Setup(ctx, version)
	if err != nil {
		fmt.Fprintln(stderr, "warning: traces are off:", err)
		tp, shutdown = nil, func(context.Context) error { return nil }
	}
	defer func() {
		flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdown(flush); err != nil {
			fmt.Fprintln(stderr, "warning: traces not all exported:", err)
		}
	}()
	ctx = tracing.WithProvider(ctx, tp)
	defer cpuProfile(stderr)()
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code := exitBadInput // cobra's own errors are usage errors: unknown command or flag, missing argument
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	reportError(cmd, stderr, err, code)
	return code
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "remediator",
		Short: "Turn detected anomalies into reviewed, recorded Git changes",
		Long: "remediator routes anomalies to the runbooks of a catalog, proposes each fix as a pull request\n" +
			"on an infrastructure-as-code repository, and records every outcome in Git.",
		// --version, as cobra has it, prints what the version command prints.
		Version:           version + " (commit " + commit + ")",
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return checkLogFlags(cmd) },
	}
	addLogFlags(root)
	root.SetVersionTemplate("remediator {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newVersionCommand(), newCatalogCommand(), newRouteCommand(), newProposeCommand(), newServeCommand(), newPlanCheckCommand(), newApproveCommand(), newAppliedCommand(), newReconcileCommand(), newReplayCommand(), newStatusCommand(), newAuditCommand(), newQueueCommand())
	root.AddCommand(newRejectCommand(), newCloseCommand())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput(err) })
	classifyRuntimeErrors(root)
	root.Long += "\n\nExit codes: 0 ok, 1 a check failed (a policy violation, an audit finding), 2 bad usage or bad\n" +
		"input (named with its field, file and line where known), 3 a runtime failure (network, Git, forge)."
	return root
}

// classifyRuntimeErrors makes every error a command returns without a code of its own
// a runtime failure (exit 3): bad input is always marked as such where it is found,
// so what is left is the network, Git or the forge failing.
func classifyRuntimeErrors(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			var ee *exitError
			if err == nil || errors.As(err, &ee) {
				return err
			}
			return &exitError{code: exitRuntime, err: err}
		}
	}
	for _, sub := range c.Commands() {
		classifyRuntimeErrors(sub)
	}
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "remediator %s\n", cmd.Root().Version)
			return nil
		},
	}
}
