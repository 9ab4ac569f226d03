package image

import (
	"bytes"
	"context"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewInspectCommand is `berth image inspect`.
func NewInspectCommand(c *command.CLI) *cobra.Command {
	var tmpl, platform string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			var opts []client.ImageInspectOption
			if platform != "" {
				p, err := ParsePlatform(platform)
				if err != nil {
					return err
				}
				opts = append(opts, client.ImageInspectWithPlatform(&p))
			}
			return command.Inspect(c.Out, args, tmpl, Getter(cmd.Context(), api, opts...))
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "Format output using a custom template:\n'json': Print in JSON format\n'TEMPLATE': Print output using the given Go template")
	cmd.Flags().StringVar(&platform, "platform", "", "Inspect a specific platform of the multi-platform image")
	return cmd
}

// Getter fetches images for command.Inspect.
func Getter(ctx context.Context, api *client.Client, opts ...client.ImageInspectOption) command.Getter {
	return func(ref string) (any, []byte, error) {
		var raw bytes.Buffer
		res, err := api.ImageInspect(ctx, ref, append(opts, client.ImageInspectWithRawResponse(&raw))...)
		if err != nil {
			return nil, nil, err
		}
		return res.InspectResponse, raw.Bytes(), nil
	}
}
