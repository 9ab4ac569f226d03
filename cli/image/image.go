package image

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewCommand is `berth image`, the group of image commands.
func NewCommand(c *command.CLI) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	ls := NewListCommand(c)
	ls.Use, ls.Aliases = "ls [OPTIONS] [REPOSITORY[:TAG]]", []string{"list"}
	rm := NewRemoveCommand(c)
	rm.Use, rm.Aliases = "rm [OPTIONS] IMAGE [IMAGE...]", []string{"remove", "rmi"}
	cmd.AddCommand(NewPullCommand(c), NewPushCommand(c), ls, rm, NewTagCommand(c), NewSaveCommand(c),
		NewLoadCommand(c), NewImportCommand(c), NewHistoryCommand(c), NewInspectCommand(c), NewPruneCommand(c))
	return cmd
}

// TopLevel returns the image commands that docker also has at the top
// level: pull, push, images, rmi, tag, save, load, import, history.
func TopLevel(c *command.CLI) []*cobra.Command {
	return []*cobra.Command{NewPullCommand(c), NewPushCommand(c), NewListCommand(c), NewRemoveCommand(c),
		NewTagCommand(c), NewSaveCommand(c), NewLoadCommand(c), NewImportCommand(c), NewHistoryCommand(c)}
}
