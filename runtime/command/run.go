package command

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/berth-dev/berth/runtime/container"
	"github.com/berth-dev/berth/runtime/spec"
)

func runRun(a *app, args []string) error {
	var cf createFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cf.register(fs)
	detach := fs.Bool("detach", false, "return once the container has started")
	fs.BoolVar(detach, "d", false, "return once the container has started")
	keep := fs.Bool("keep", false, "do not delete the container after it exits")
	noSubreaper := fs.Bool("no-subreaper", false, "do not become a subreaper")
	pos, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	id, err := oneID("run", pos)
	if err != nil {
		return err
	}
	opts := cf.opts(a, id)
	opts.KeepChild = !*detach
	var t *tty
	if cf.consoleSocket == "" {
		bundle, err := filepath.Abs(cf.bundle)
		if err != nil {
			return fmt.Errorf("bundle %s: %w", cf.bundle, err)
		}
		s, err := spec.Load(bundle)
		if err != nil {
			return err
		}
		opts.Spec = s
		if s.Process.Terminal {
			if *detach {
				return errDetachTTY
			}
			if t, err = newTTY(); err != nil {
				return err
			}
			opts.ConsoleConn = t.theirs
		}
	}
	if !*detach && !*noSubreaper {
		if err := becomeSubreaper(); err != nil {
			return err
		}
	}
	var sigs *relay
	if !*detach {
		sigs = newRelay()
	}
	ctx := context.Background()
	c, err := container.Create(ctx, opts, a.log.warnf)
	if err != nil {
		return err
	}
	if t != nil {
		if err := t.attach(); err != nil {
			c.Delete(ctx, true, a.log.warnf)
			return err
		}
		defer t.close()
	}
	if *detach {
		if err := c.Start(ctx); err != nil {
			c.Delete(ctx, true, a.log.warnf)
			return err
		}
		return nil
	}
	sigs.wait()
	sigs.to(c.InitPid, t)
	if err := c.Start(ctx); err != nil {
		sigs.stop()
		c.Delete(ctx, true, a.log.warnf)
		return err
	}
	code, err := container.Wait(c.InitPid)
	sigs.stop()
	if err != nil {
		return fmt.Errorf("wait for container %s: %w", id, err)
	}
	if !*keep {
		if err := c.Delete(ctx, true, a.log.warnf); err != nil {
			a.log.warnf("%v", err)
		}
	}
	return exitCode(code)
}
