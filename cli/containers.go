package cli

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

func containerCommands(c *command.CLI) []*cobra.Command { return nil }
