package container

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/runtime/spec"
)

// ExecOpts are the options of `exec`.
type ExecOpts struct {
	Process       *specs.Process
	PidFile       string
	ConsoleSocket string
	ConsoleConn   *os.File
	PreserveFDs   int

	Stdin, Stdout, Stderr *os.File
}

// Exec starts p in the running container and returns its pid once it has
// exec'd, or the error that stopped it. The caller waits for the pid
// (it must be a child subreaper: the process is its grandchild).
func (c *Container) Exec(opts ExecOpts) (pid int, err error) {
	switch st := c.Status(); st {
	case Running, Created:
	default:
		return 0, classf(errdefs.ErrFailedPrecondition, "cannot exec in container %s: it is %s", c.ID, st)
	}
	if err := spec.ValidateProcess(opts.Process); err != nil {
		return 0, classf(errdefs.ErrInvalidArgument, "exec in container %s: %v", c.ID, err)
	}
	if err := checkRlimits(opts.Process.Rlimits); err != nil {
		return 0, err
	}
	plan := nsPlan{nodump: true}
	for _, ns := range c.Spec.Linux.Namespaces {
		name, _ := spec.NamespaceProcName(ns.Type)
		line := fmt.Sprintf("%s:/proc/%d/ns/%s", name, c.InitPid, name)
		if ns.Type == specs.UserNamespace {
			plan.userns = true
			plan.join = append([]string{line}, plan.join...)
		} else {
			plan.join = append(plan.join, line)
		}
	}
	profile := c.seccompJSON // execSeccomp may decode it
	bpf, err := c.execSeccomp(opts.Process)
	if err != nil {
		return 0, err
	}
	blob, compiled, fast, err := encodeExecBlobSeccomp(opts.Process, c.Spec, opts.PreserveFDs, bpf)
	if err != nil {
		return 0, classf(errdefs.ErrInvalidArgument, "exec in container %s: %v", c.ID, err)
	}
	if fast && bpf == nil && compiled != nil && profile != nil {
		c.keepExecSeccomp(profile, compiled)
	}
	if !fast {
		// Go's init loads the profile (and the listener's fd needs it).
		if err := c.decodeSeccomp(); err != nil {
			return 0, err
		}
	}
	p := &process{
		id: c.ID, spec: c.Spec, plan: plan, preserveFDs: opts.PreserveFDs,
		consoleSocket: opts.ConsoleSocket, consoleConn: opts.ConsoleConn,
		stdin: opts.Stdin, stdout: opts.Stdout, stderr: opts.Stderr,
		cgroupPaths: c.CgroupPaths, execBlob: blob,
	}
	started, err := p.start(nil)
	defer func() {
		if err != nil && started != nil && started.pid > 0 {
			if started.cmd != nil {
				started.cmd.killAndReap()
			} else {
				killAndReap(started.pid)
			}
		}
		started.reapIntermediate()
	}()
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", c.ID, err)
	}
	defer started.sync.f.Close()
	if !fast {
		if err := c.sendExecConfig(started, opts, plan.userns); err != nil {
			return 0, fmt.Errorf("exec in container %s: %w", c.ID, err)
		}
	}
	// EOF means execve succeeded (the socket is close-on-exec).
	if _, err := started.sync.recv(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("unexpected message from exec init")
		}
		return 0, fmt.Errorf("exec in container %s: %w", c.ID, err)
	}
	if opts.PidFile != "" {
		if err := writePidFile(opts.PidFile, started.pid); err != nil {
			return 0, err
		}
	}
	return started.pid, nil
}

// sendExecConfig hands Go's init the process to exec.
func (c *Container) sendExecConfig(started *started, opts ExecOpts, userns bool) error {
	cfg := &initConfig{
		Exec: true, ID: c.ID, Bundle: c.Bundle, Spec: c.Spec, Process: opts.Process,
		PreserveFDs: opts.PreserveFDs, Userns: userns, InitPid: c.InitPid,
		ConsoleFD: started.consoleFD, FifoFD: -1, ListenerFD: started.listenerFD,
	}
	return started.sync.sendConfig(cfg)
}
