package image

import (
	"errors"
	"fmt"
	"io"

	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewSaveCommand is `berth save`.
func NewSaveCommand(c *command.CLI) *cobra.Command {
	var output string
	var platforms []string
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" && c.Out.IsTerminal() {
				return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
			}
			var opts []client.ImageSaveOption
			if len(platforms) > 0 {
				var ps []ocispec.Platform
				for _, s := range platforms {
					p, err := ParsePlatform(s)
					if err != nil {
						return err
					}
					ps = append(ps, p)
				}
				opts = append(opts, client.ImageSaveWithPlatforms(ps...))
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			body, err := api.ImageSave(cmd.Context(), args, opts...)
			if err != nil {
				return err
			}
			defer body.Close()
			if output == "" {
				_, err := io.Copy(c.Out, body)
				return err
			}
			if err := command.WriteFile(output, body); err != nil {
				return fmt.Errorf("failed to save image: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	cmd.Flags().StringSliceVar(&platforms, "platform", nil, "Save only the given platform(s)")
	return cmd
}
