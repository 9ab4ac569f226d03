package container

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/image"
)

// NewCreateCommand is `berth create`.
func NewCreateCommand(c *command.CLI) *cobra.Command {
	var o createFlags
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a new container",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.parse(args[0], args[1:], os.LookupEnv, cmd.Flags().Changed)
			if err != nil {
				return command.StatusError{Status: "berth: " + err.Error() + "\n\nRun 'berth create --help' for more information", Code: 125}
			}
			id, err := create(cmd.Context(), c, cfg, &o)
			if err != nil {
				return runError(err)
			}
			fmt.Fprintln(c.Out, id)
			return nil
		},
	}
	o.register(cmd.Flags())
	return cmd
}

// create creates the container, pulling its image first as --pull says
// ("missing": when the daemon has no such image). It writes --cidfile
// and prints the daemon's warnings on standard error.
func create(ctx context.Context, c *command.CLI, cfg *containerConfig, o *createFlags) (string, error) {
	api, err := c.Client()
	if err != nil {
		return "", err
	}
	var cidfile *os.File
	if o.cidfile != "" {
		// Created before the container so that a taken name fails first.
		if cidfile, err = os.OpenFile(o.cidfile, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err != nil {
			if os.IsExist(err) {
				return "", fmt.Errorf("container ID file found, make sure the other container isn't running or delete %s", o.cidfile)
			}
			return "", fmt.Errorf("failed to create the container ID file: %w", err)
		}
		defer cidfile.Close()
	}
	var platform *ocispec.Platform
	if o.platform != "" {
		p, err := image.ParsePlatform(o.platform)
		if err != nil {
			return "", err
		}
		platform = &p
	}
	pull := func() error {
		return image.Pull(ctx, c, cfg.Config.Image, image.PullOptions{Platform: o.platform, Quiet: o.quiet, ToStderr: true})
	}
	switch o.pull {
	case "always":
		if err := pull(); err != nil {
			return "", err
		}
	case "missing", "never", "":
	default:
		return "", fmt.Errorf("invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"", o.pull)
	}
	opts := client.ContainerCreateOptions{Config: cfg.Config, HostConfig: cfg.HostConfig, NetworkingConfig: cfg.Network,
		Platform: platform, Name: o.name}
	later, err := laterNetworks(ctx, api, &opts)
	if err != nil {
		return "", err
	}
	res, err := api.ContainerCreate(ctx, opts)
	if err != nil && errdefs.IsNotFound(err) && (o.pull == "missing" || o.pull == "") && strings.Contains(strings.ToLower(err.Error()), "image") {
		fmt.Fprintf(c.Err, "Unable to find image '%s' locally\n", familiarTagged(cfg.Config.Image))
		if err := pull(); err != nil {
			return "", err
		}
		res, err = api.ContainerCreate(ctx, opts)
	}
	if err != nil {
		if cidfile != nil {
			os.Remove(o.cidfile)
		}
		return "", err
	}
	if err := connectLater(ctx, api, res.ID, later); err != nil {
		return "", err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(c.Err, "WARNING: %s\n", w)
	}
	if cidfile != nil {
		if _, err := cidfile.WriteString(res.ID); err != nil {
			return "", fmt.Errorf("failed to write the container ID to the file: %w", err)
		}
	}
	return res.ID, nil
}

// familiarTagged is "busybox:latest" for "busybox".
func familiarTagged(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarString(reference.TagNameOnly(named))
}

// runError is the exit status of run's own failures: 126 when the
// command cannot be invoked, 127 when it cannot be found, else 125.
func runError(err error) error {
	msg := err.Error()
	lower := strings.ToLower(msg)
	code := 125
	switch {
	case strings.Contains(lower, "executable file not found") || strings.Contains(lower, "no such file or directory") && strings.Contains(lower, "exec"):
		code = 127
	case strings.Contains(lower, "permission denied") && strings.Contains(lower, "exec") || strings.Contains(lower, "not executable"):
		code = 126
	}
	if code == 125 {
		msg += "\n\nRun 'berth run --help' for more information"
	}
	return command.StatusError{Status: "berth: " + msg, Code: code}
}
