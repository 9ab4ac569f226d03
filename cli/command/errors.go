package command

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// StatusError ends the CLI with Code, printing Status (when not empty)
// on standard error.
type StatusError struct {
	Status string
	Code   int
}

func (e StatusError) Error() string {
	if e.Status == "" {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Status
}

// usageError is an error about a command's arguments, with the
// command's usage line and where to find help.
func usageError(cmd *cobra.Command, msg string) error {
	return fmt.Errorf("%s: %s\n\nUsage:  %s\n\nSee '%s --help'.", cmd.Root().Name(), msg, cmd.UseLine(), cmd.CommandPath())
}

// NoArgs accepts no arguments.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return UnknownCommand(cmd, args)
	}
	return usageError(cmd, fmt.Sprintf("'%s' accepts no arguments.", cmd.CommandPath()))
}

// UnknownCommand is the error of a command group given a word that is
// none of its commands.
func UnknownCommand(cmd *cobra.Command, args []string) error {
	root := cmd.Root().Name()
	name := strings.TrimSpace(strings.TrimPrefix(cmd.CommandPath(), root) + " " + args[0])
	return fmt.Errorf("%s: '%s' is not a %s command.\nSee '%s --help'", root, name, root, cmd.CommandPath())
}

// MinArgs accepts at least n arguments.
func MinArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= n {
			return nil
		}
		return usageError(cmd, fmt.Sprintf("'%s' requires at least %d %s.", cmd.CommandPath(), n, plural(n)))
	}
}

// ExactArgs accepts exactly n arguments.
func ExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		return usageError(cmd, fmt.Sprintf("'%s' requires %d %s.", cmd.CommandPath(), n, plural(n)))
	}
}

// RangeArgs accepts between lo and hi arguments.
func RangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= lo && len(args) <= hi {
			return nil
		}
		return usageError(cmd, fmt.Sprintf("'%s' requires at least %d and at most %d %s.", cmd.CommandPath(), lo, hi, plural(hi)))
	}
}

// MaxArgs accepts at most n arguments.
func MaxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		return usageError(cmd, fmt.Sprintf("'%s' requires at most %d %s.", cmd.CommandPath(), n, plural(n)))
	}
}

func plural(n int) string {
	if n == 1 {
		return "argument"
	}
	return "arguments"
}

// FlagError is the error of a bad flag: exit status 125, as docker.
func FlagError(cmd *cobra.Command, err error) error {
	return StatusError{
		Status: fmt.Sprintf("%s\n\nUsage:  %s\n\nRun '%s --help' for more information", err, cmd.UseLine(), cmd.CommandPath()),
		Code:   125,
	}
}
