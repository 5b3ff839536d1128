package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// Log formats of --log-format.
const (
	logText = "text"
	logJSON = "json"
)

// addLogFlags adds --log-format and --log-level to every command.
func addLogFlags(root *cobra.Command) {
	root.PersistentFlags().String("log-format", "", "log lines as text or json (default: json for serve, text otherwise)")
	root.PersistentFlags().String("log-level", "info", "least level logged: debug, info, warn or error")
}

// checkLogFlags refuses a format or level it does not know, before a command runs.
func checkLogFlags(cmd *cobra.Command) error {
	format, _ := cmd.Flags().GetString("log-format")
	if format != "" && format != logText && format != logJSON {
		return badInput(fmt.Errorf("--log-format: want text or json, not %q", format))
	}
	level, _ := cmd.Flags().GetString("log-level")
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return badInput(fmt.Errorf("--log-level: want debug, info, warn or error, not %q", level))
	}
	return nil
}

// reportError writes the error a command ended with, in the command's log format: a
// collector reading serve's JSON lines (or a command's asked for with --log-format
// json) gets its last line, the reason it stopped, as JSON too.
func reportError(cmd *cobra.Command, stderr io.Writer, err error, code int) {
	if cmd == nil || logFormat(cmd, "") != logJSON {
		fmt.Fprintln(stderr, "error:", err)
		return
	}
	slog.New(slog.NewJSONHandler(stderr, nil)).Error("command failed", "command", cmd.CommandPath(), "err", err.Error(), "exit_code", code)
}

// logFormat is the format --log-format asks for, or the command's own default: the
// one named by its logFormatDefault annotation (serve logs JSON), else dflt.
func logFormat(cmd *cobra.Command, dflt string) string {
	if f := cmd.Flags().Lookup("log-format"); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	if f := cmd.Annotations[logFormatDefault]; f != "" {
		return f
	}
	return dflt
}

// logFormatDefault annotates a command whose logs are JSON unless asked otherwise.
const logFormatDefault = "log-format-default"

// newLogger is the command's logger, on standard error, as --log-format and
// --log-level ask; dflt is the format when none is asked for.
func newLogger(cmd *cobra.Command, dflt string) *slog.Logger {
	format := logFormat(cmd, dflt)
	levelText, _ := cmd.Flags().GetString("log-level")
	var level slog.Level
	_ = level.UnmarshalText([]byte(levelText)) // checked by checkLogFlags
	opts := &slog.HandlerOptions{Level: level}
	if format == logJSON {
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), opts))
	}
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), opts))
}
