package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
)

// NewCommitCommand is `berth commit`.
func NewCommitCommand(c *command.CLI) *cobra.Command {
	var author, message string
	var changes []string
	var pause bool
	cmd := &cobra.Command{
		Use:   "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		Short: "Create a new image from a container's changes",
		Args:  command.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			res, err := api.ContainerCommit(cmd.Context(), args[0], client.ContainerCommitOptions{
				Reference: ref, Comment: message, Author: author, Changes: changes, NoPause: !pause,
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.Out, res.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&author, "author", "a", "", `Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`)
	f.StringArrayVarP(&changes, "change", "c", nil, "Apply Dockerfile instruction to the created image")
	f.StringVarP(&message, "message", "m", "", "Commit message")
	f.BoolVarP(&pause, "pause", "p", true, "Pause container during commit")
	return cmd
}

// NewDiffCommand is `berth diff`.
func NewDiffCommand(c *command.CLI) *cobra.Command {
	return &cobra.Command{
		Use:   "diff CONTAINER",
		Short: "Inspect changes to files or directories on a container's filesystem",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ContainerDiff(cmd.Context(), args[0], client.ContainerDiffOptions{})
			if err != nil {
				return err
			}
			for _, ch := range res.Changes {
				fmt.Fprintf(c.Out, "%s %s\n", changeKind(ch.Kind), ch.Path)
			}
			return nil
		},
	}
}

// changeKind is C (modified), A (added) or D (deleted).
func changeKind(k container.ChangeType) string {
	switch k {
	case 0:
		return "C"
	case 1:
		return "A"
	case 2:
		return "D"
	}
	return "?"
}

// NewExportCommand is `berth export`.
func NewExportCommand(c *command.CLI) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] CONTAINER",
		Short: "Export a container's filesystem as a tar archive",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" && c.Out.IsTerminal() {
				return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			body, err := api.ContainerExport(cmd.Context(), args[0], client.ContainerExportOptions{})
			if err != nil {
				return err
			}
			defer body.Close()
			if output == "" {
				_, err := io.Copy(c.Out, body)
				return err
			}
			return command.WriteFile(output, body)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

// NewUpdateCommand is `berth update`.
func NewUpdateCommand(c *command.CLI) *cobra.Command {
	var o createFlags
	cmd := &cobra.Command{
		Use:   "update [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Update configuration of one or more containers",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().NFlag() == 0 {
				return errors.New("you must provide one or more flags when using this command")
			}
			var r container.Resources
			if err := o.resources(&r, cmd.Flags().Changed); err != nil {
				return err
			}
			opts := client.ContainerUpdateOptions{Resources: &r}
			if cmd.Flags().Changed("restart") {
				p, err := parseRestart(o.restart)
				if err != nil {
					return err
				}
				opts.RestartPolicy = &p
			}
			api, err := c.Client()
			if err != nil {
				return err
			}
			return command.Each(c, args, func(name string) error {
				res, err := api.ContainerUpdate(cmd.Context(), name, opts)
				for _, w := range res.Warnings {
					fmt.Fprintf(c.Err, "WARNING: %s\n", w)
				}
				return err
			})
		},
	}
	o.registerResources(cmd.Flags())
	cmd.Flags().StringVar(&o.restart, "restart", "", "Restart policy to apply when a container exits")
	return cmd
}

// NewPortCommand is `berth port`.
func NewPortCommand(c *command.CLI) *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Args:  command.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			res, err := api.ContainerInspect(cmd.Context(), args[0], client.ContainerInspectOptions{})
			if err != nil {
				return err
			}
			var ports network.PortMap
			if ns := res.Container.NetworkSettings; ns != nil {
				ports = ns.Ports
			}
			if len(args) == 2 {
				want := args[1]
				if !strings.Contains(want, "/") {
					want += "/tcp"
				}
				p, err := network.ParsePort(want)
				if err != nil {
					return fmt.Errorf("Error: invalid port (%s): %w", args[1], err)
				}
				bs, ok := ports[p]
				if !ok || len(bs) == 0 {
					return fmt.Errorf("Error: No public port '%s' published for %s", p, args[0])
				}
				for _, b := range bs {
					fmt.Fprintln(c.Out, hostPort(b))
				}
				return nil
			}
			var lines []string
			for p, bs := range ports {
				for _, b := range bs {
					lines = append(lines, fmt.Sprintf("%s -> %s", p, hostPort(b)))
				}
			}
			sort.Strings(lines)
			for _, l := range lines {
				fmt.Fprintln(c.Out, l)
			}
			return nil
		},
	}
}

func hostPort(b network.PortBinding) string {
	ip := "0.0.0.0"
	if b.HostIP.IsValid() {
		ip = b.HostIP.String()
		if b.HostIP.Is6() {
			ip = "[" + ip + "]"
		}
	}
	return ip + ":" + b.HostPort
}

// NewPruneCommand is `berth container prune`.
func NewPruneCommand(c *command.CLI) *cobra.Command {
	var force bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all stopped containers",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := command.ParseFilters(filters)
			if err != nil {
				return err
			}
			return command.Prune(c, force, "WARNING! This will remove all stopped containers.", func() (uint64, error) {
				return Prune(cmd.Context(), c, f)
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "Provide filter values (e.g. \"until=<timestamp>\")")
	return cmd
}

// Prune removes the stopped containers f selects, lists them as docker
// does, and returns the space reclaimed; `system prune` shares it.
func Prune(ctx context.Context, c *command.CLI, f client.Filters) (uint64, error) {
	api, err := c.Client()
	if err != nil {
		return 0, err
	}
	res, err := api.ContainerPrune(ctx, client.ContainerPruneOptions{Filters: f})
	if err != nil {
		return 0, err
	}
	if len(res.Report.ContainersDeleted) > 0 {
		fmt.Fprintln(c.Out, "Deleted Containers:")
		for _, id := range res.Report.ContainersDeleted {
			fmt.Fprintln(c.Out, id)
		}
		fmt.Fprintln(c.Out)
	}
	return res.Report.SpaceReclaimed, nil
}
