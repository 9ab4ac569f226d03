package container

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewCommand is `berth container`.
func NewCommand(c *command.CLI) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "container",
		Short: "Manage containers",
		Args:  command.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	ls := NewListCommand(c)
	ls.Use, ls.Aliases = "ls [OPTIONS]", []string{"list", "ps"}
	rm := NewRemoveCommand(c)
	rm.Use, rm.Aliases = "rm [OPTIONS] CONTAINER [CONTAINER...]", []string{"remove"}
	cmd.AddCommand(append(commands(c), ls, rm, NewInspectCommand(c), NewPruneCommand(c))...)
	return cmd
}

// TopLevel returns the container commands docker also has at the top
// level.
func TopLevel(c *command.CLI) []*cobra.Command {
	return append(commands(c), NewListCommand(c), NewRemoveCommand(c))
}

func commands(c *command.CLI) []*cobra.Command {
	return []*cobra.Command{
		NewRunCommand(c), NewCreateCommand(c), NewStartCommand(c), NewStopCommand(c), NewKillCommand(c),
		NewRestartCommand(c), NewPauseCommand(c), NewUnpauseCommand(c), NewWaitCommand(c), NewLogsCommand(c),
		NewExecCommand(c), NewAttachCommand(c), NewTopCommand(c), NewStatsCommand(c), NewCopyCommand(c),
		NewCommitCommand(c), NewDiffCommand(c), NewExportCommand(c), NewRenameCommand(c), NewUpdateCommand(c),
		NewPortCommand(c),
	}
}
