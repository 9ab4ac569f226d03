package volume

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewCommand is `berth volume`, the group of volume commands.
func NewCommand(c *command.CLI) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volume COMMAND",
		Short: "Manage volumes",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newCreateCommand(c), newListCommand(c), newInspectCommand(c), newRemoveCommand(c),
		newPruneCommand(c), newExportCommand(c), newImportCommand(c))
	return cmd
}
