package system

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewCommand is `berth system`.
func NewCommand(c *command.CLI) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "system",
		Short: "Manage berth",
		Args:  command.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewInfoCommand(c), NewDiskUsageCommand(c), NewEventsCommand(c), NewPruneCommand(c), NewFsckCommand(c))
	return cmd
}
