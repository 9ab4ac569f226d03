package system

import (
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/container"
	"github.com/berth-dev/berth/cli/image"
)

// NewInspectCommand is `berth inspect`: each name is looked up as the
// --type says, or as a container and then as an image.
func NewInspectCommand(c *command.CLI) *cobra.Command {
	var tmpl, kind string
	var size bool
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Return low-level information on berth objects",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != "" && kind != "container" && kind != "image" {
				return fmt.Errorf("%q is not a valid value for --type", kind)
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			images := image.Getter(ctx, api)
			containers := container.Getter(ctx, api, size)
			get := func(ref string) (any, []byte, error) {
				switch kind {
				case "container":
					return containers(ref)
				case "image":
					return images(ref)
				}
				typed, raw, err := containers(ref)
				if err == nil || !errdefs.IsNotFound(err) {
					return typed, raw, err
				}
				typed, raw, err = images(ref)
				if errdefs.IsNotFound(err) {
					return nil, nil, fmt.Errorf("Error: No such object: %s", ref)
				}
				return typed, raw, err
			}
			return command.Inspect(c.Out, args, tmpl, get)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&tmpl, "format", "f", "", "Format output using a custom template")
	f.StringVar(&kind, "type", "", "Only inspect objects of the given type")
	f.BoolVarP(&size, "size", "s", false, "Display total file sizes if the type is container")
	return cmd
}
