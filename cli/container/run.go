package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/stream"
)

// NewRunCommand is `berth run`.
func NewRunCommand(c *command.CLI) *cobra.Command {
	var o createFlags
	var detach bool
	var sigProxy bool
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Args:  command.MinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), c, &o, args, detach, sigProxy, cmd.Flags().Changed)
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "Run container in background and print container ID")
	cmd.Flags().BoolVar(&sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	cmd.Flags().StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func run(ctx context.Context, c *command.CLI, o *createFlags, args []string, detach, sigProxy bool, changed func(string) bool) error {
	usage := func(err error) error {
		return command.StatusError{Status: "berth: " + err.Error() + "\n\nRun 'berth run --help' for more information", Code: 125}
	}
	cfg, err := o.parse(args[0], args[1:], os.LookupEnv, changed)
	if err != nil {
		return usage(err)
	}
	if detach && len(o.attach) > 0 {
		return usage(errors.New("conflicting options: cannot specify both --attach and --detach"))
	}
	if !detach {
		attach := map[string]bool{"stdout": true, "stderr": true, "stdin": o.interactive}
		if len(o.attach) > 0 {
			attach = map[string]bool{}
			for _, a := range o.attach {
				switch a := lower(a); a {
				case "stdin", "stdout", "stderr":
					attach[a] = true
				default:
					return usage(fmt.Errorf("invalid argument %q for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", a))
				}
			}
		}
		cfg.Config.AttachStdin, cfg.Config.AttachStdout, cfg.Config.AttachStderr = attach["stdin"], attach["stdout"], attach["stderr"]
		if cfg.Config.AttachStdin {
			cfg.Config.OpenStdin, cfg.Config.StdinOnce = true, true
		}
		if cfg.Config.Tty && cfg.Config.AttachStdin && !c.In.IsTerminal() {
			return command.StatusError{Status: "the input device is not a TTY", Code: 1}
		}
		if cfg.Config.Tty {
			if h, w, ok := stream.Size(c.Out.FD()); ok {
				cfg.HostConfig.ConsoleSize = [2]uint{h, w}
			}
		}
	}
	keys, err := detachKeys(c, o.detachKeys)
	if err != nil {
		return usage(err)
	}
	id, err := create(ctx, c, cfg, o)
	if err != nil {
		return runError(err)
	}
	api, _ := c.Client()
	if detach {
		if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
			return runError(err)
		}
		fmt.Fprintln(c.Out, id)
		return nil
	}
	// The streams live as long as the container: a signal to the CLI is
	// the container's (sig-proxy), not a reason to hang up.
	sctx := context.WithoutCancel(ctx)
	a := attachment{c: c, id: id, tty: cfg.Config.Tty, keys: keys, stdin: cfg.Config.AttachStdin,
		stdout: cfg.Config.AttachStdout, stderr: cfg.Config.AttachStderr}
	resp, err := a.open(sctx)
	if err != nil {
		return runError(err)
	}
	defer resp.Close()
	cond := container.WaitConditionNextExit
	if cfg.HostConfig.AutoRemove {
		cond = container.WaitConditionRemoved
	}
	wait := api.ContainerWait(sctx, id, client.ContainerWaitOptions{Condition: cond})
	if _, err := api.ContainerStart(sctx, id, client.ContainerStartOptions{}); err != nil {
		if cfg.HostConfig.AutoRemove {
			// A container that never ran has no exit to remove it at.
			api.ContainerRemove(sctx, id, client.ContainerRemoveOptions{Force: true})
		}
		return runError(err)
	}
	if sigProxy && !cfg.Config.Tty {
		stop := proxySignals(sctx, api, id)
		defer stop()
	}
	streamErr := a.stream(sctx, resp)
	if errors.Is(streamErr, stream.ErrDetached) {
		fmt.Fprintln(c.Err)
		return nil
	}
	if streamErr != nil {
		fmt.Fprintf(c.Err, "error while streaming the container's output: %v\n", streamErr)
	}
	select {
	case res := <-wait.Result:
		if res.Error != nil && res.Error.Message != "" {
			return command.StatusError{Status: res.Error.Message, Code: 125}
		}
		if res.StatusCode != 0 {
			return command.StatusError{Code: int(res.StatusCode)}
		}
		return nil
	case err := <-wait.Error:
		return command.StatusError{Status: "berth: " + err.Error(), Code: 125}
	}
}

// proxySignals forwards the signals the CLI receives to the container
// until stopped.
func proxySignals(ctx context.Context, api *client.Client, id string) func() {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				sig, ok := s.(syscall.Signal)
				if !ok || sig == syscall.SIGCHLD || sig == syscall.SIGPIPE || sig == syscall.SIGURG || sig == syscall.SIGWINCH {
					continue
				}
				api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: fmt.Sprint(int(sig))})
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// attachment is the streams of one container, as run, start -a and
// attach connect them.
type attachment struct {
	c                     *command.CLI
	id                    string
	tty                   bool
	keys                  []byte
	stdin, stdout, stderr bool
}

func (a attachment) open(ctx context.Context) (*client.HijackedResponse, error) {
	api, err := a.c.Client()
	if err != nil {
		return nil, err
	}
	res, err := api.ContainerAttach(ctx, a.id, client.ContainerAttachOptions{
		Stream: true, Stdin: a.stdin, Stdout: a.stdout, Stderr: a.stderr, DetachKeys: keysString(a.keys),
	})
	if err != nil {
		return nil, err
	}
	return &res.HijackedResponse, nil
}

// stream moves the streams until the container's output ends, with the
// terminal raw and its size followed when there is a tty.
func (a attachment) stream(ctx context.Context, resp *client.HijackedResponse) error {
	s := stream.Session{TTY: a.tty, DetachKeys: a.keys, Out: io.Discard, Err: io.Discard}
	if a.stdout {
		s.Out = a.c.Out
	}
	if a.stderr {
		s.Err = a.c.Err
	}
	if a.stdin {
		s.In = a.c.In
	}
	if a.tty {
		if a.stdin {
			restore, err := stream.RawTerminal(a.c.In.FD())
			if err != nil {
				return err
			}
			defer restore()
		}
		api, _ := a.c.Client()
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream.MonitorSize(rctx, a.c.Out.FD(), func(h, w uint) {
			api.ContainerResize(rctx, a.id, client.ContainerResizeOptions{Height: h, Width: w})
		})
	}
	return s.Run(ctx, resp)
}

// detachKeys is --detach-keys, else config.json's detachKeys, else
// docker's ctrl-p,ctrl-q.
func detachKeys(c *command.CLI, flag string) ([]byte, error) {
	s := flag
	if s == "" {
		if cf, err := c.Config(); err == nil {
			s = cf.DetachKeys
		}
	}
	if s == "" {
		s = stream.DefaultDetachKeys
	}
	return stream.ParseKeys(s)
}

// keysString writes keys back in the API's notation.
func keysString(keys []byte) string {
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ","
		}
		switch {
		case k >= 1 && k <= 26:
			out += "ctrl-" + string(rune('a'+k-1))
		case k == 0:
			out += "ctrl-@"
		case k >= 27 && k <= 31:
			out += "ctrl-" + string(rune('['+k-27))
		default:
			out += string(rune(k))
		}
	}
	return out
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
