package system

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/container"
	"github.com/berth-dev/berth/cli/image"
	"github.com/berth-dev/berth/cli/network"
	"github.com/berth-dev/berth/cli/volume"
)

// NewPruneCommand is `berth system prune`: stopped containers, unused
// networks, dangling (or, with -a, unused) images and, with --volumes,
// unused anonymous volumes, in docker's order and with its report.
func NewPruneCommand(c *command.CLI) *cobra.Command {
	var all, force, volumes bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := command.ParseFilters(filters)
			if err != nil {
				return err
			}
			return command.Prune(c, force, pruneWarning(all, volumes), func() (uint64, error) {
				ctx := cmd.Context()
				total, err := container.Prune(ctx, c, f)
				if err != nil {
					return 0, err
				}
				// A daemon without networking yet answers 501: nothing to
				// prune there.
				if err := network.Prune(ctx, c, f); err != nil && !errdefs.IsNotImplemented(err) {
					return 0, err
				}
				if volumes {
					n, err := volume.Prune(ctx, c, false, f)
					if err != nil {
						return 0, err
					}
					total += n
				}
				imgFilters := f.Clone()
				imgFilters.Add("dangling", fmt.Sprint(!all))
				n, err := image.Prune(ctx, c, imgFilters)
				if err != nil {
					return 0, err
				}
				return total + n, nil
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused images not just dangling ones")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().BoolVar(&volumes, "volumes", false, "Prune anonymous volumes")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "Provide filter values (e.g. \"label=<key>=<value>\")")
	return cmd
}

func pruneWarning(all, volumes bool) string {
	items := []string{"all stopped containers", "all networks not used by at least one container"}
	if volumes {
		items = append(items, "all anonymous volumes not used by at least one container")
	}
	if all {
		items = append(items, "all images without at least one container associated to them")
	} else {
		items = append(items, "all dangling images")
	}
	return "WARNING! This will remove:\n  - " + strings.Join(items, "\n  - ") + "\n"
}
