package cni

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// PluginError is a plugin's failure: its error document when it wrote
// one, else how it ended.
type PluginError struct {
	Network string
	Plugin  string // the type
	Command string // ADD, DEL, CHECK
	// Code is the spec's error code (1 incompatible version, 2
	// unsupported field, 3 unknown container, 4 invalid environment, 5
	// I/O, 6 decoding, 7 invalid configuration, 11 try again later, 100
	// and up the plugin's own); 0 when the plugin gave none.
	Code    uint
	Msg     string
	Details string
}

func (e *PluginError) Error() string {
	msg := e.Msg
	if e.Details != "" {
		msg += ": " + e.Details
	}
	return fmt.Sprintf("cni network %s: plugin %s %s: %s (code %d)", e.Network, e.Plugin, e.Command, msg, e.Code)
}

// Is classifies the codes: invalid configuration or arguments, try again
// later.
func (e *PluginError) Is(target error) bool {
	switch e.Code {
	case 1, 2, 4, 6, 7:
		return target == errdefs.ErrInvalidArgument
	case 11:
		return target == errdefs.ErrUnavailable
	}
	return false
}

// call is one plugin invocation.
type call struct {
	network string
	plugin  Plugin
	command string
	env     []string // CNI_* but CNI_COMMAND
	stdin   []byte
}

// find is the plugin's program in the plugin directories.
func (r *Runner) find(typ string) (string, error) {
	for _, dir := range r.o.Path {
		p := filepath.Join(dir, typ)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("cni plugin %s not found in %s: %w", typ, strings.Join(r.o.Path, ":"), errdefs.ErrNotFound)
}

// run executes one plugin and returns its stdout on success.
func (r *Runner) run(ctx context.Context, c call) ([]byte, error) {
	prog, err := r.find(c.plugin.Type)
	if err != nil {
		return nil, fmt.Errorf("cni network %s: %w", c.network, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, prog)
	cmd.Env = append([]string{"CNI_COMMAND=" + c.command, "CNI_PATH=" + strings.Join(r.o.Path, ":"),
		"PATH=" + pathEnv()}, c.env...)
	cmd.Stdin = bytes.NewReader(c.stdin)
	cmd.Stdout = &limited{w: &stdout, n: maxConfig}
	cmd.Stderr = &limited{w: &stderr, n: 64 << 10}
	cmd.WaitDelay = time.Second
	if err := r.start(cmd); err != nil {
		return nil, fmt.Errorf("cni network %s: start plugin %s: %w", c.network, c.plugin.Type, err)
	}
	err = cmd.Wait()
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("cni network %s: plugin %s %s: %w (timeout %s)", c.network, c.plugin.Type, c.command, ctx.Err(), r.o.Timeout)
	}
	pe := &PluginError{Network: c.network, Plugin: c.plugin.Type, Command: c.command}
	var doc struct {
		Code    uint   `json:"code"`
		Msg     string `json:"msg"`
		Details string `json:"details"`
	}
	if json.Unmarshal(stdout.Bytes(), &doc) == nil && (doc.Code != 0 || doc.Msg != "") {
		pe.Code, pe.Msg, pe.Details = doc.Code, doc.Msg, doc.Details
	} else {
		pe.Msg = err.Error()
		if s := strings.TrimSpace(stderr.String()); s != "" {
			pe.Details = s
		}
	}
	return nil, pe
}

// start starts cmd in the plugins' network namespace: the child is
// forked from a thread that entered it (and which is never used again).
func (r *Runner) start(cmd *exec.Cmd) error {
	if r.o.NetNS == "" {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := unix.Open(r.o.NetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open %s: %w", r.o.NetNS, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("setns %s: %w", r.o.NetNS, err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// pathEnv is the PATH plugins get (portmap and firewall run iptables).
func pathEnv() string {
	if p := os.Getenv("PATH"); p != "" {
		return p
	}
	return "/usr/sbin:/usr/bin:/sbin:/bin"
}

// nsPath makes a "/proc/self/…" path one that a child process opens as
// the same file.
func nsPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/proc/self/"); ok {
		return "/proc/" + strconv.Itoa(os.Getpid()) + "/" + rest
	}
	return p
}

// limited writes at most n bytes to w and drops the rest, so a plugin
// that writes without end cannot exhaust memory.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	k := min(len(p), l.n)
	if k > 0 {
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		l.n -= k
	}
	return len(p), nil
}
