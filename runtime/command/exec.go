package command

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/runtime/container"
)

type execFlags struct {
	process, consoleSocket, cwd, user, pidFile, label, apparmor string
	env, caps, gids                                             multi
	tty, detach, noNewPrivs                                     bool
	preserveFDs                                                 int
}

func runExec(a *app, args []string) error {
	var ef execFlags
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.StringVar(&ef.process, "process", "", "JSON file of the process to run (\"-\" reads stdin)")
	fs.StringVar(&ef.process, "p", "", "JSON file of the process to run")
	fs.StringVar(&ef.consoleSocket, "console-socket", "", "unix socket that receives the pty master")
	fs.StringVar(&ef.cwd, "cwd", "", "working directory in the container")
	fs.Var(&ef.env, "env", "set an environment variable (repeatable)")
	fs.Var(&ef.env, "e", "set an environment variable (repeatable)")
	fs.BoolVar(&ef.tty, "tty", false, "allocate a pseudo-TTY")
	fs.BoolVar(&ef.tty, "t", false, "allocate a pseudo-TTY")
	fs.StringVar(&ef.user, "user", "", "UID[:GID]")
	fs.StringVar(&ef.user, "u", "", "UID[:GID]")
	fs.Var(&ef.gids, "additional-gids", "additional group id (repeatable)")
	fs.Var(&ef.gids, "g", "additional group id (repeatable)")
	fs.Var(&ef.caps, "cap", "add a capability (repeatable)")
	fs.Var(&ef.caps, "c", "add a capability (repeatable)")
	fs.BoolVar(&ef.detach, "detach", false, "do not wait for the process")
	fs.BoolVar(&ef.detach, "d", false, "do not wait for the process")
	fs.StringVar(&ef.pidFile, "pid-file", "", "file to write the process pid to")
	fs.StringVar(&ef.label, "process-label", "", "SELinux label of the process")
	fs.StringVar(&ef.apparmor, "apparmor", "", "AppArmor profile of the process")
	fs.BoolVar(&ef.noNewPrivs, "no-new-privs", false, "set no_new_privs")
	fs.IntVar(&ef.preserveFDs, "preserve-fds", 0, "pass N fds after stdio to the process")
	fs.String("cgroup", "", "ignored: the process joins the container's cgroup")
	pos, err := parse(fs, args, true)
	if err != nil {
		return err
	}
	if len(pos) < 1 {
		return fmt.Errorf("exec: expects a container id")
	}
	c, err := container.LoadForExec(a.root, pos[0])
	if err != nil {
		return err
	}
	p, err := ef.build(c.Spec.Process, pos[1:])
	if err != nil {
		return err
	}
	var t *tty
	if p.Terminal && ef.consoleSocket == "" {
		if ef.detach {
			return errDetachTTY
		}
		if t, err = newTTY(); err != nil {
			return err
		}
	}
	if !ef.detach {
		if err := becomeSubreaper(); err != nil {
			return err
		}
	}
	var sigs *relay
	if !ef.detach {
		sigs = newRelay()
	}
	opts := container.ExecOpts{Process: p, PidFile: ef.pidFile, ConsoleSocket: ef.consoleSocket, PreserveFDs: ef.preserveFDs}
	if t != nil {
		opts.ConsoleConn = t.theirs
	}
	pid, err := c.Exec(opts)
	if err != nil {
		return err
	}
	if ef.detach {
		return nil
	}
	if t != nil {
		if err := t.attach(); err != nil {
			return err
		}
		defer t.close()
	}
	sigs.to(pid, t)
	code, err := container.Wait(pid)
	sigs.stop()
	if err != nil {
		return fmt.Errorf("wait for exec process %d: %w", pid, err)
	}
	return exitCode(code)
}

// build makes the process to exec: the --process file as is, or the
// container's process with the command line's changes, as runc does.
func (ef *execFlags) build(base *specs.Process, args []string) (*specs.Process, error) {
	if ef.process != "" {
		var data []byte
		var err error
		if ef.process == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(ef.process)
		}
		if err != nil {
			return nil, fmt.Errorf("exec: read process %s: %w", ef.process, err)
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("exec: decode process %s: %w", ef.process, err)
		}
		return &p, nil
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("exec: no command given (args or --process)")
	}
	p := *base
	p.Args = args
	p.Terminal = ef.tty
	p.ConsoleSize = nil
	p.Env = append(append([]string(nil), base.Env...), ef.env...)
	if ef.cwd != "" {
		p.Cwd = ef.cwd
	}
	if ef.user != "" {
		u, g, hasG := strings.Cut(ef.user, ":")
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("exec: --user %q: uid must be a number", ef.user)
		}
		p.User.UID = uint32(uid)
		if hasG {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("exec: --user %q: gid must be a number", ef.user)
			}
			p.User.GID = uint32(gid)
		}
	}
	for _, g := range ef.gids {
		gid, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("exec: --additional-gids %q: not a number", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(gid))
	}
	if len(ef.caps) > 0 {
		c := &specs.LinuxCapabilities{}
		if base.Capabilities != nil {
			cp := *base.Capabilities
			c = &cp
		}
		c.Bounding = append(append([]string(nil), c.Bounding...), ef.caps...)
		c.Effective = append(append([]string(nil), c.Effective...), ef.caps...)
		c.Permitted = append(append([]string(nil), c.Permitted...), ef.caps...)
		p.Capabilities = c
	}
	if ef.noNewPrivs {
		p.NoNewPrivileges = true
	}
	if ef.label != "" {
		p.SelinuxLabel = ef.label
	}
	if ef.apparmor != "" {
		p.ApparmorProfile = ef.apparmor
	}
	return &p, nil
}
