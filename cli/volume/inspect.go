package volume

import (
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

func newInspectCommand(c *command.CLI) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			return command.Inspect(c.Out, args, tmpl, func(name string) (any, []byte, error) {
				res, err := api.VolumeInspect(cmd.Context(), name, client.VolumeInspectOptions{})
				if err != nil {
					return nil, nil, err
				}
				return res.Volume, res.Raw, nil
			})
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "Format output using a custom template:\n'json': Print in JSON format\n'TEMPLATE': Print output using the given Go template")
	return cmd
}
