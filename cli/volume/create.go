package volume

import (
	"fmt"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

func newCreateCommand(c *command.CLI) *cobra.Command {
	var driver string
	var opts, labels []string
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Args:  command.MaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := client.VolumeCreateOptions{Driver: driver}
			if len(args) == 1 {
				o.Name = args[0]
			}
			var err error
			if o.DriverOpts, err = command.KeyValues(opts, "opt"); err != nil {
				return err
			}
			if o.Labels, err = command.KeyValues(labels, "label"); err != nil {
				return err
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.VolumeCreate(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.Out, res.Volume.Name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&driver, "driver", "d", "local", "Specify volume driver name")
	f.StringArrayVarP(&opts, "opt", "o", nil, "Set driver specific options")
	f.StringArrayVar(&labels, "label", nil, "Set metadata for a volume")
	return cmd
}
