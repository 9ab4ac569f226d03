package network

import (
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

func newInspectCommand(c *command.CLI) *cobra.Command {
	var tmpl string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			return command.Inspect(c.Out, args, tmpl, func(name string) (any, []byte, error) {
				res, err := api.NetworkInspect(cmd.Context(), name, client.NetworkInspectOptions{Verbose: verbose})
				if err != nil {
					return nil, nil, err
				}
				return res.Network, res.Raw, nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&tmpl, "format", "f", "", "Format output using a custom template:\n'json': Print in JSON format\n'TEMPLATE': Print output using the given Go template")
	f.BoolVarP(&verbose, "verbose", "v", false, "Verbose output for diagnostics")
	return cmd
}
