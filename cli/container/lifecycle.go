package container

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/stream"
)

// NewStartCommand is `berth start`.
func NewStartCommand(c *command.CLI) *cobra.Command {
	var attach, interactive bool
	var keys string
	cmd := &cobra.Command{
		Use:   "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if !attach && !interactive {
				return command.Each(c, args, func(name string) error {
					_, err := api.ContainerStart(ctx, name, client.ContainerStartOptions{})
					return err
				})
			}
			if len(args) > 1 {
				return errors.New("you cannot start and attach multiple containers at once")
			}
			return startAttached(ctx, c, args[0], interactive, keys)
		},
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "Attach STDOUT/STDERR and forward signals")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "Attach container's STDIN")
	cmd.Flags().StringVar(&keys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func startAttached(ctx context.Context, c *command.CLI, name string, interactive bool, keyFlag string) error {
	api, _ := c.Client()
	info, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	keys, err := detachKeys(c, keyFlag)
	if err != nil {
		return err
	}
	sctx := context.WithoutCancel(ctx)
	ctr := info.Container
	a := attachment{c: c, id: ctr.ID, tty: ctr.Config.Tty, keys: keys, stdin: interactive && ctr.Config.OpenStdin, stdout: true, stderr: true}
	resp, err := a.open(sctx)
	if err != nil {
		return err
	}
	defer resp.Close()
	wait := api.ContainerWait(sctx, ctr.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := api.ContainerStart(sctx, ctr.ID, client.ContainerStartOptions{}); err != nil {
		return err
	}
	if !ctr.Config.Tty {
		defer proxySignals(sctx, api, ctr.ID)()
	}
	if err := a.stream(sctx, resp); errors.Is(err, stream.ErrDetached) {
		fmt.Fprintln(c.Err)
		return nil
	}
	select {
	case res := <-wait.Result:
		if res.StatusCode != 0 {
			return command.StatusError{Code: int(res.StatusCode)}
		}
	case err := <-wait.Error:
		return err
	}
	return nil
}

// NewStopCommand is `berth stop`.
func NewStopCommand(c *command.CLI) *cobra.Command {
	return signalTimeoutCommand(c, "stop [OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",
		func(ctx context.Context, api client.APIClient, name, sig string, timeout *int) error {
			_, err := api.ContainerStop(ctx, name, client.ContainerStopOptions{Signal: sig, Timeout: timeout})
			return err
		})
}

// NewRestartCommand is `berth restart`.
func NewRestartCommand(c *command.CLI) *cobra.Command {
	return signalTimeoutCommand(c, "restart [OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers",
		func(ctx context.Context, api client.APIClient, name, sig string, timeout *int) error {
			_, err := api.ContainerRestart(ctx, name, client.ContainerRestartOptions{Signal: sig, Timeout: timeout})
			return err
		})
}

// signalTimeoutCommand is a command over containers with stop's flags:
// -s/--signal and -t/--timeout (the timeout only when given).
func signalTimeoutCommand(c *command.CLI, use, short string, do func(ctx context.Context, api client.APIClient, name, sig string, timeout *int) error) *cobra.Command {
	var timeout int
	var sig string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			var t *int
			if cmd.Flags().Changed("timeout") || cmd.Flags().Changed("time") {
				t = &timeout
			}
			return command.Each(c, args, func(name string) error { return do(cmd.Context(), api, name, sig, t) })
		},
	}
	cmd.Flags().IntVarP(&timeout, "timeout", "t", 0, "Seconds to wait before killing the container")
	cmd.Flags().IntVar(&timeout, "time", 0, "Seconds to wait before killing the container")
	cmd.Flags().MarkHidden("time")
	cmd.Flags().StringVarP(&sig, "signal", "s", "", "Signal to send to the container")
	return cmd
}

// NewKillCommand is `berth kill`.
func NewKillCommand(c *command.CLI) *cobra.Command {
	var sig string
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			return command.Each(c, args, func(name string) error {
				_, err := api.ContainerKill(cmd.Context(), name, client.ContainerKillOptions{Signal: sig})
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&sig, "signal", "s", "", "Signal to send to the container")
	return cmd
}

// NewPauseCommand is `berth pause`.
func NewPauseCommand(c *command.CLI) *cobra.Command {
	return eachCommand(c, "pause CONTAINER [CONTAINER...]", "Pause all processes within one or more containers",
		func(ctx context.Context, api client.APIClient, name string) error {
			_, err := api.ContainerPause(ctx, name, client.ContainerPauseOptions{})
			return err
		})
}

// NewUnpauseCommand is `berth unpause`.
func NewUnpauseCommand(c *command.CLI) *cobra.Command {
	return eachCommand(c, "unpause CONTAINER [CONTAINER...]", "Unpause all processes within one or more containers",
		func(ctx context.Context, api client.APIClient, name string) error {
			_, err := api.ContainerUnpause(ctx, name, client.ContainerUnpauseOptions{})
			return err
		})
}

// eachCommand is a flagless command that does one call per container.
func eachCommand(c *command.CLI, use, short string, do func(ctx context.Context, api client.APIClient, name string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			return command.Each(c, args, func(name string) error { return do(cmd.Context(), api, name) })
		},
	}
}

// NewWaitCommand is `berth wait`.
func NewWaitCommand(c *command.CLI) *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			var errs []string
			for _, name := range args {
				w := api.ContainerWait(cmd.Context(), name, client.ContainerWaitOptions{})
				select {
				case res := <-w.Result:
					fmt.Fprintln(c.Out, res.StatusCode)
				case err := <-w.Error:
					errs = append(errs, err.Error())
				}
			}
			if len(errs) > 0 {
				return errors.New(strings.Join(errs, "\n"))
			}
			return nil
		},
	}
}

// NewRemoveCommand is `berth rm`.
func NewRemoveCommand(c *command.CLI) *cobra.Command {
	var force, volumes, links bool
	cmd := &cobra.Command{
		Use:   "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Remove one or more containers",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			return command.Each(c, args, func(name string) error {
				name = strings.Trim(name, "/")
				if name == "" {
					return errors.New("Container name cannot be empty")
				}
				_, err := api.ContainerRemove(cmd.Context(), name, client.ContainerRemoveOptions{Force: force, RemoveVolumes: volumes, RemoveLinks: links})
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
	cmd.Flags().BoolVarP(&links, "link", "l", false, "Remove the specified link")
	return cmd
}

// NewRenameCommand is `berth rename`.
func NewRenameCommand(c *command.CLI) *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  command.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			newName := strings.TrimSpace(args[1])
			if newName == "" {
				return errors.New("Error: Neither old nor new names may be empty")
			}
			if _, err := api.ContainerRename(cmd.Context(), args[0], client.ContainerRenameOptions{NewName: newName}); err != nil {
				return fmt.Errorf("%w\nError: failed to rename container named %s", err, args[0])
			}
			return nil
		},
	}
}
