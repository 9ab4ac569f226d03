package command

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/runtime/container"
)

// load parses a verb that takes only a container id and loads it.
func load(a *app, verb string, args []string) (*container.Container, error) {
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	pos, err := parse(fs, args, false)
	if err != nil {
		return nil, err
	}
	id, err := oneID(verb, pos)
	if err != nil {
		return nil, err
	}
	return container.Load(a.root, id)
}

func runStart(a *app, args []string) error {
	c, err := load(a, "start", args)
	if err != nil {
		return err
	}
	return c.Start(context.Background())
}

func runState(a *app, args []string) error {
	c, err := load(a, "state", args)
	if err != nil {
		return err
	}
	return printJSON(c.State(), true)
}

func runPause(a *app, args []string) error {
	c, err := load(a, "pause", args)
	if err != nil {
		return err
	}
	return c.Pause()
}

func runResume(a *app, args []string) error {
	c, err := load(a, "resume", args)
	if err != nil {
		return err
	}
	return c.Resume()
}

func runKill(a *app, args []string) error {
	fs := flag.NewFlagSet("kill", flag.ContinueOnError)
	all := fs.Bool("all", false, "signal every process of the container")
	fs.BoolVar(all, "a", false, "signal every process of the container")
	pos, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return fmt.Errorf("kill: expects a container id and an optional signal, got %d arguments", len(pos))
	}
	sig := unix.SIGTERM
	if len(pos) == 2 {
		if sig, err = parseSignal(pos[1]); err != nil {
			return err
		}
	}
	c, err := container.Load(a.root, pos[0])
	if err != nil {
		return err
	}
	return c.Signal(sig, *all)
}

// parseSignal accepts "9", "KILL", "SIGKILL", "sigkill", "SIGRTMIN+3".
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("kill: invalid signal number %d", n)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN+"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 && 34+n <= 64 {
			return unix.Signal(34 + n), nil
		}
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX-"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 && 64-n >= 34 {
			return unix.Signal(64 - n), nil
		}
	}
	return 0, fmt.Errorf("kill: unknown signal %q", s)
}

func runDelete(a *app, args []string) error {
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	force := fs.Bool("force", false, "kill and delete a running container")
	fs.BoolVar(force, "f", false, "kill and delete a running container")
	pos, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	id, err := oneID("delete", pos)
	if err != nil {
		return err
	}
	c, err := container.Load(a.root, id)
	if err != nil {
		if *force && errors.Is(err, errdefs.ErrNotFound) {
			// A create that crashed may have left a state directory
			// without state.json; --force clears it.
			return container.RemoveOrphan(a.root, id)
		}
		return err
	}
	return c.Delete(context.Background(), *force, a.log.warnf)
}

func printJSON(v any, indent bool) error {
	enc := json.NewEncoder(os.Stdout)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}
