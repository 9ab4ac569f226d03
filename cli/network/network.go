package network

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewCommand is `berth network`, the group of network commands.
func NewCommand(c *command.CLI) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network COMMAND",
		Short: "Manage networks",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newCreateCommand(c), newListCommand(c), newInspectCommand(c), newConnectCommand(c),
		newDisconnectCommand(c), newRemoveCommand(c), newPruneCommand(c))
	return cmd
}
