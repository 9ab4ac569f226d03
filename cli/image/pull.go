package image

import (
	"context"
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

type pullOptions struct {
	all      bool
	quiet    bool
	platform string
}

// NewPullCommand is `berth pull`.
func NewPullCommand(c *command.CLI) *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return Pull(cmd.Context(), c, args[0], PullOptions{All: o.all, Quiet: o.quiet, Platform: o.platform})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all-tags", "a", false, "Download all tagged images in the repository")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress verbose output")
	f.StringVar(&o.platform, "platform", "", "Set platform if server is multi-platform capable")
	f.Bool("disable-content-trust", true, "Skip image verification (always: berth has no content trust)")
	return cmd
}

// PullOptions tune Pull.
type PullOptions struct {
	All      bool
	Quiet    bool
	Platform string
	// ToStderr shows the progress and the reference on standard error
	// (run's pull of a missing image).
	ToStderr bool
}

// Pull pulls ref with progress on the CLI's output, then prints the
// full reference as docker does. run uses it for missing images.
func Pull(ctx context.Context, c *command.CLI, ref string, o PullOptions) error {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return err
	}
	if o.All && !reference.IsNameOnly(named) {
		return fmt.Errorf("tag can't be used with --all-tags/-a")
	}
	if !o.All {
		named = reference.TagNameOnly(named)
	}
	api, err := c.Client()
	if err != nil {
		return err
	}
	opts := client.ImagePullOptions{All: o.All}
	if o.Platform != "" {
		p, err := ParsePlatform(o.Platform)
		if err != nil {
			return err
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	if opts.RegistryAuth, err = c.RegistryAuth(named.String()); err != nil {
		return err
	}
	resp, err := api.ImagePull(ctx, named.String(), opts)
	if err != nil {
		return err
	}
	defer resp.Close()
	if o.ToStderr {
		if o.Quiet {
			return c.ShowProgress(resp, true)
		}
		return command.ShowProgressOn(c.Err, resp)
	}
	if err := c.ShowProgress(resp, o.Quiet); err != nil {
		return err
	}
	fmt.Fprintln(c.Out, named.String())
	return nil
}

// ParsePlatform reads os[/arch[/variant]].
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "/")
	if len(parts) > 3 || parts[0] == "" {
		return ocispec.Platform{}, fmt.Errorf("invalid platform %q: expected os[/arch[/variant]]", s)
	}
	p := ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	for _, part := range parts {
		if part == "" {
			return ocispec.Platform{}, fmt.Errorf("invalid platform %q: expected os[/arch[/variant]]", s)
		}
	}
	return p, nil
}
