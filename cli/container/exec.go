package container

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/stream"
)

// NewExecCommand is `berth exec`.
func NewExecCommand(c *command.CLI) *cobra.Command {
	var detach, interactive, tty, privileged bool
	var env, envFile []string
	var user, workdir, keys string
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Args:  command.MinArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			vars := []string{}
			for _, f := range envFile {
				vs, err := readEnvFile(f)
				if err != nil {
					return err
				}
				vars = append(vars, vs...)
			}
			cmdline, err := parseEnv(env, os.LookupEnv)
			if err != nil {
				return err
			}
			k, err := detachKeys(c, keys)
			if err != nil {
				return err
			}
			if tty && interactive && !c.In.IsTerminal() {
				return errors.New("the input device is not a TTY")
			}
			opts := client.ExecCreateOptions{
				User: user, Privileged: privileged, TTY: tty, AttachStdin: interactive && !detach,
				AttachStdout: !detach, AttachStderr: !detach, DetachKeys: keysString(k), Env: append(vars, cmdline...),
				WorkingDir: workdir, Cmd: args[1:],
			}
			if tty {
				if h, w, ok := stream.Size(c.Out.FD()); ok {
					opts.ConsoleSize = client.ConsoleSize{Height: h, Width: w}
				}
			}
			ctx := cmd.Context()
			ex, err := api.ExecCreate(ctx, args[0], opts)
			if err != nil {
				return err
			}
			if detach {
				_, err := api.ExecStart(ctx, ex.ID, client.ExecStartOptions{Detach: true, TTY: tty})
				return err
			}
			return execAttached(ctx, c, ex.ID, opts, k)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&detach, "detach", "d", false, "Detached mode: run command in the background")
	f.BoolVarP(&interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	f.BoolVarP(&tty, "tty", "t", false, "Allocate a pseudo-TTY")
	f.BoolVar(&privileged, "privileged", false, "Give extended privileges to the command")
	f.StringArrayVarP(&env, "env", "e", nil, "Set environment variables")
	f.StringArrayVar(&envFile, "env-file", nil, "Read in a file of environment variables")
	f.StringVarP(&user, "user", "u", "", "Username or UID (format: \"<name|uid>[:<group|gid>]\")")
	f.StringVarP(&workdir, "workdir", "w", "", "Working directory inside the container")
	f.StringVar(&keys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func execAttached(ctx context.Context, c *command.CLI, id string, opts client.ExecCreateOptions, keys []byte) error {
	api, _ := c.Client()
	sctx := context.WithoutCancel(ctx)
	res, err := api.ExecAttach(sctx, id, client.ExecAttachOptions{TTY: opts.TTY, ConsoleSize: opts.ConsoleSize})
	if err != nil {
		return err
	}
	defer res.Close()
	s := stream.Session{TTY: opts.TTY, DetachKeys: keys, Out: c.Out, Err: c.Err}
	if opts.AttachStdin {
		s.In = c.In
	}
	if opts.TTY {
		if opts.AttachStdin {
			restore, err := stream.RawTerminal(c.In.FD())
			if err != nil {
				return err
			}
			defer restore()
		}
		rctx, cancel := context.WithCancel(sctx)
		defer cancel()
		stream.MonitorSize(rctx, c.Out.FD(), func(h, w uint) {
			api.ExecResize(rctx, id, client.ExecResizeOptions{Height: h, Width: w})
		})
	}
	if err := s.Run(sctx, &res.HijackedResponse); err != nil {
		if errors.Is(err, stream.ErrDetached) {
			fmt.Fprintln(c.Err)
			return nil
		}
		return err
	}
	info, err := api.ExecInspect(sctx, id, client.ExecInspectOptions{})
	if err != nil {
		return err
	}
	if info.ExitCode != 0 {
		return command.StatusError{Code: info.ExitCode}
	}
	return nil
}

// NewAttachCommand is `berth attach`.
func NewAttachCommand(c *command.CLI) *cobra.Command {
	var noStdin, sigProxy bool
	var keys string
	cmd := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.Client()
			if err != nil {
				return err
			}
			sctx := context.WithoutCancel(cmd.Context())
			info, err := api.ContainerInspect(sctx, args[0], client.ContainerInspectOptions{})
			if err != nil {
				return err
			}
			ctr := info.Container
			if ctr.State == nil || !ctr.State.Running {
				return errors.New("You cannot attach to a stopped container, start it first")
			}
			if ctr.State.Paused {
				return errors.New("You cannot attach to a paused container, unpause it first")
			}
			k, err := detachKeys(c, keys)
			if err != nil {
				return err
			}
			stdin := !noStdin && ctr.Config.OpenStdin
			if ctr.Config.Tty && stdin && !c.In.IsTerminal() {
				return errors.New("the input device is not a TTY")
			}
			a := attachment{c: c, id: ctr.ID, tty: ctr.Config.Tty, keys: k, stdin: stdin, stdout: true, stderr: true}
			resp, err := a.open(sctx)
			if err != nil {
				return err
			}
			defer resp.Close()
			if sigProxy && !ctr.Config.Tty {
				defer proxySignals(sctx, api, ctr.ID)()
			}
			if err := a.stream(sctx, resp); err != nil {
				if errors.Is(err, stream.ErrDetached) {
					fmt.Fprintln(c.Err)
					return nil
				}
				return err
			}
			// The output ended: the container is exiting; its status is
			// attach's.
			w := api.ContainerWait(sctx, ctr.ID, client.ContainerWaitOptions{})
			select {
			case res := <-w.Result:
				if res.StatusCode != 0 {
					return command.StatusError{Code: int(res.StatusCode)}
				}
			case <-w.Error:
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noStdin, "no-stdin", false, "Do not attach STDIN")
	cmd.Flags().BoolVar(&sigProxy, "sig-proxy", true, "Proxy all received signals to the process")
	cmd.Flags().StringVar(&keys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}
