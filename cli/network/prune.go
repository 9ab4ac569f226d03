package network

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

func newPruneCommand(c *command.CLI) *cobra.Command {
	var force bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all unused networks",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := command.ParseFilters(filters)
			if err != nil {
				return err
			}
			if !force && !command.Confirm(c, "WARNING! This will remove all custom networks not used by at least one container.") {
				return nil
			}
			return Prune(cmd.Context(), c, f)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	f.StringArrayVar(&filters, "filter", nil, "Provide filter values (e.g. \"until=<timestamp>\")")
	return cmd
}

// Prune removes the unused networks f selects and lists them as docker
// does; `system prune` shares it.
func Prune(ctx context.Context, c *command.CLI, f client.Filters) error {
	api, err := c.Client()
	if err != nil {
		return err
	}
	res, err := api.NetworkPrune(ctx, client.NetworkPruneOptions{Filters: f})
	if err != nil {
		return err
	}
	if len(res.Report.NetworksDeleted) > 0 {
		fmt.Fprintf(c.Out, "Deleted Networks:\n%s\n\n", strings.Join(res.Report.NetworksDeleted, "\n"))
	}
	return nil
}
