package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/image"
	"github.com/berth-dev/berth/cli/network"
	"github.com/berth-dev/berth/cli/registry"
	"github.com/berth-dev/berth/cli/system"
	"github.com/berth-dev/berth/cli/volume"
)

// Run runs the berth CLI with args (without the program name) and
// returns its exit status.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, version, commit string) int {
	c := command.New(stdin, stdout, stderr, version, commit)
	defer c.Close()
	root := NewRoot(c)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	return exitStatus(c, err)
}

// exitStatus prints err and returns the status it means.
func exitStatus(c *command.CLI, err error) int {
	if err == nil {
		return 0
	}
	var se command.StatusError
	if errors.As(err, &se) {
		if se.Status != "" {
			fmt.Fprintln(c.Err, se.Status)
		}
		if se.Code == 0 {
			return 1
		}
		return se.Code
	}
	fmt.Fprintln(c.Err, Message(c, err))
	return 1
}

// Message is how the CLI words an error: the daemon's own words, and a
// hint when the daemon cannot be reached.
func Message(c *command.CLI, err error) string {
	if client.IsErrConnectionFailed(err) {
		return fmt.Sprintf("Cannot connect to the berth daemon at %s. Is berthd running?", c.Host())
	}
	return err.Error()
}

// NewRoot is the `berth` command with every subcommand.
func NewRoot(c *command.CLI) *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   "berth [OPTIONS] COMMAND",
		Short: "A container engine, docker-compatible",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				fmt.Fprintf(c.Out, "berth version %s, build %s\n", c.Version, shortCommit(c.Commit))
				return nil
			}
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return setupLogging(c)
		},
		SilenceErrors:    true,
		SilenceUsage:     true,
		TraverseChildren: true,
	}
	// Global options come before the command, as docker's: -H is also
	// history's --human.
	f := root.Flags()
	f.StringVarP(&c.Opts.Host, "host", "H", "", "Daemon socket to connect to (default $BERTH_HOST, $DOCKER_HOST or "+command.DefaultHost+")")
	f.StringVar(&c.Opts.ConfigDir, "config", "", "Location of client config files (default ~/.berth)")
	f.BoolVarP(&c.Opts.Debug, "debug", "D", false, "Enable debug mode")
	f.StringVarP(&c.Opts.LogLevel, "log-level", "l", "info", `Set the logging level ("debug", "info", "warn", "error", "fatal")`)
	f.BoolVarP(&showVersion, "version", "v", false, "Print version information and quit")

	root.AddCommand(image.NewCommand(c), system.NewCommand(c), system.NewVersionCommand(c), system.NewInfoCommand(c),
		system.NewEventsCommand(c), system.NewInspectCommand(c), registry.NewLoginCommand(c), registry.NewLogoutCommand(c))
	root.AddCommand(image.TopLevel(c)...)
	root.AddCommand(containerCommands(c)...)
	root.AddCommand(volume.NewCommand(c))
	root.AddCommand(network.NewCommand(c))
	finish(root)
	return root
}

// finish applies docker's conventions to every command: bad flags exit
// 125 with the usage, usage lines carry their own [OPTIONS], and groups
// refuse words that are not their commands.
func finish(cmd *cobra.Command) {
	cmd.DisableFlagsInUseLine = true
	if cmd.Flags().ShorthandLookup("h") != nil && cmd.Flags().Lookup("help") == nil {
		// -h is run's --hostname: help is --help alone.
		cmd.Flags().Bool("help", false, "Print usage")
	}
	cmd.SetFlagErrorFunc(command.FlagError)
	if cmd.HasSubCommands() && cmd.Args == nil {
		cmd.Args = command.NoArgs
	}
	for _, sub := range cmd.Commands() {
		finish(sub)
	}
}

func setupLogging(c *command.CLI) error {
	level := slog.LevelInfo
	switch strings.ToLower(c.Opts.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "info", "":
	case "warn", "warning":
		level = slog.LevelWarn
	case "error", "fatal", "panic":
		level = slog.LevelError
	default:
		return command.StatusError{Status: fmt.Sprintf("Unable to parse logging level: %s", c.Opts.LogLevel), Code: 1}
	}
	if c.Opts.Debug {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(c.Err, &slog.HandlerOptions{Level: level})))
	return nil
}

func shortCommit(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	if s == "" {
		return "unknown"
	}
	return s
}
