package image

import (
	"fmt"

	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewPushCommand is `berth push`.
func NewPushCommand(c *command.CLI) *cobra.Command {
	var all, quiet bool
	var platform string
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			named, err := reference.ParseNormalizedNamed(args[0])
			if err != nil {
				return err
			}
			if all && !reference.IsNameOnly(named) {
				return fmt.Errorf("tag can't be used with --all-tags/-a")
			}
			if !all {
				named = reference.TagNameOnly(named)
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			opts := client.ImagePushOptions{All: all}
			if platform != "" {
				p, err := ParsePlatform(platform)
				if err != nil {
					return err
				}
				opts.Platform = &p
			}
			if opts.RegistryAuth, err = c.RegistryAuth(named.String()); err != nil {
				return err
			}
			resp, err := api.ImagePush(cmd.Context(), named.String(), opts)
			if err != nil {
				return err
			}
			defer resp.Close()
			if err := c.ShowProgress(resp, quiet); err != nil {
				return err
			}
			if quiet {
				fmt.Fprintln(c.Out, named.String())
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all-tags", "a", false, "Push all tags of an image to the repository")
	f.BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	f.StringVar(&platform, "platform", "", "Push a platform-specific manifest as a single-platform image")
	f.Bool("disable-content-trust", true, "Skip image signing (always: berth has no content trust)")
	return cmd
}
