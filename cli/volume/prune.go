package volume

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

func newPruneCommand(c *command.CLI) *cobra.Command {
	var all, force bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused local volumes",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := command.ParseFilters(filters)
			if err != nil {
				return err
			}
			warning := "WARNING! This will remove anonymous local volumes not used by at least one container."
			if all {
				warning = "WARNING! This will remove all local volumes not used by at least one container."
			}
			return command.Prune(c, force, warning, func() (uint64, error) {
				return Prune(cmd.Context(), c, all, f)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	f.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	f.StringArrayVar(&filters, "filter", nil, "Provide filter values (e.g. \"label=<label>\")")
	return cmd
}

// Prune removes the unused volumes f selects (anonymous ones only unless
// all), lists them as docker does and returns the space reclaimed;
// `system prune --volumes` shares it.
func Prune(ctx context.Context, c *command.CLI, all bool, f client.Filters) (uint64, error) {
	api, err := c.Client()
	if err != nil {
		return 0, err
	}
	res, err := api.VolumePrune(ctx, client.VolumePruneOptions{All: all, Filters: f})
	if err != nil {
		return 0, err
	}
	if len(res.Report.VolumesDeleted) > 0 {
		fmt.Fprintf(c.Out, "Deleted Volumes:\n%s\n\n", strings.Join(res.Report.VolumesDeleted, "\n"))
	}
	return res.Report.SpaceReclaimed, nil
}
