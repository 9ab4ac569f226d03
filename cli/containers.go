package cli

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/container"
)

// containerCommands are `berth container` and its verbs at the top
// level.
func containerCommands(c *command.CLI) []*cobra.Command {
	return append(container.TopLevel(c), container.NewCommand(c))
}
