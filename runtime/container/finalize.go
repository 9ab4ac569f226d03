package container

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/runtime/caps"
	"github.com/berth-dev/berth/runtime/seccomp"
	"github.com/berth-dev/berth/runtime/spec"
)

// finalizer holds what is compiled before the container starts, so the
// work left between `start` and execve is a short run of syscalls.
type finalizer struct {
	p           *specs.Process
	s           *specs.Spec
	path        string
	env         []string
	caps        *caps.Caps
	preserveFDs int
	initPid     int
	id, bundle  string
	listenerFD  int
	bpf         []unix.SockFilter // precompiled linux.seccomp, if any
	bpfFlags    uint
}

func prepareFinalize(cfg *initConfig, p *specs.Process, s *specs.Spec) (*finalizer, error) {
	f := &finalizer{p: p, s: s, preserveFDs: cfg.PreserveFDs, initPid: cfg.InitPid, id: cfg.ID, bundle: cfg.Bundle, listenerFD: cfg.ListenerFD}
	if c := cfg.Seccomp; c != nil {
		if len(c.Prog) == 0 || len(c.Prog)%8 != 0 {
			return nil, fmt.Errorf("seccomp program of %d bytes", len(c.Prog))
		}
		for b := c.Prog; len(b) > 0; b = b[8:] {
			f.bpf = append(f.bpf, unix.SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])})
		}
		f.bpfFlags = c.Flags
	}
	f.env = withHome(p.Env, p.User.UID)
	path, err := lookPath(p.Args[0], f.env)
	if err != nil {
		return nil, err
	}
	f.path = path
	if f.caps, _, err = caps.New(p.Capabilities); err != nil {
		return nil, err
	}
	if p.OOMScoreAdj != nil {
		v := strconv.Itoa(*p.OOMScoreAdj)
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(v), 0); err != nil {
			return nil, fmt.Errorf("set oom_score_adj %s: %w", v, err)
		}
	}
	if s.Linux.Personality != nil {
		if err := setPersonality(s.Linux.Personality); err != nil {
			return nil, err
		}
	}
	if err := setLabels(p); err != nil {
		return nil, err
	}
	return f, nil
}

// exec drops privileges in the order that keeps each step permitted and
// execs the process. Syscalls here act on this (locked) thread only, which
// is the one that execs.
func (f *finalizer) exec() error {
	p := f.p
	for _, r := range p.Rlimits {
		res, _ := spec.RlimitResource(r.Type)
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return fmt.Errorf("set %s to %d/%d: %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	// No fd of the runtime may reach the container (CVE-2024-21626): all
	// but stdio and the preserved ones close at exec.
	if err := unix.CloseRange(uint(3+f.preserveFDs), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	// The working directory is checked while getcwd is surely allowed.
	if err := chdirChecked(p.Cwd); err != nil {
		return err
	}
	var sc *specs.LinuxSeccomp
	if f.s != nil && f.s.Linux != nil {
		sc = f.s.Linux.Seccomp
	}
	// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
	// before the user and capabilities change.
	if !p.NoNewPrivileges {
		if err := f.seccomp(sc); err != nil {
			return err
		}
	}
	if err := f.caps.ApplyBounding(); err != nil {
		return err
	}
	if err := setUser(p.User); err != nil {
		return err
	}
	if err := f.caps.Apply(); err != nil {
		return err
	}
	if p.User.Umask != nil {
		unix.Umask(int(*p.User.Umask))
	} else {
		unix.Umask(0o022)
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
		if err := f.seccomp(sc); err != nil {
			return err
		}
	}
	err := unix.Exec(f.path, p.Args, f.env)
	return fmt.Errorf("exec %s: %w", f.path, err)
}

// seccomp installs the precompiled filter, or compiles and installs sc.
func (f *finalizer) seccomp(sc *specs.LinuxSeccomp) error {
	if f.bpf != nil {
		return seccomp.Install(f.bpf, f.bpfFlags)
	}
	if sc != nil {
		return f.loadSeccomp(sc)
	}
	return nil
}

func (f *finalizer) loadSeccomp(sc *specs.LinuxSeccomp) error {
	fd, err := seccomp.Load(sc)
	if err != nil {
		return fmt.Errorf("load seccomp filter: %w", err)
	}
	if fd >= 0 {
		defer unix.Close(fd)
		if err := sendNotifyFD(sc, fd, f); err != nil {
			return err
		}
	}
	return nil
}

func chdirChecked(dir string) error {
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("chdir to cwd %q set in config.json: %w", dir, err)
	}
	wd, err := unix.Getwd()
	if err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("cwd %q is outside the container's root", dir)
	}
	return nil
}

// setUser sets groups, gid and uid, keeping capabilities across the uid
// change (PR_SET_KEEPCAPS) so the configured sets can be applied after.
func setUser(u specs.User) error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set keepcaps: %w", err)
	}
	groups := make([]uint32, len(u.AdditionalGids))
	copy(groups, u.AdditionalGids)
	if err := rawSetgroups(groups); err != nil && !(errors.Is(err, unix.EPERM) && len(groups) == 0) {
		return fmt.Errorf("setgroups %v: %w", groups, err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("setresgid %d: %w", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("setresuid %d: %w", u.UID, e)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear keepcaps: %w", err)
	}
	return nil
}

// lookPath finds the program in the container's PATH, as execvp would.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", fmt.Errorf("exec: %q: %w", file, err)
		}
		return file, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if fi.Mode()&0o111 == 0 {
		return os.ErrPermission
	}
	return nil
}

// withHome adds HOME from the container's /etc/passwd when the config
// leaves it out, as a login would.
func withHome(env []string, uid uint32) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	home := "/"
	if data, err := os.ReadFile("/etc/passwd"); err == nil {
		want := strconv.FormatUint(uint64(uid), 10)
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 6 && f[2] == want && f[5] != "" {
				home = f[5]
				break
			}
		}
	}
	return append(append([]string(nil), env...), "HOME="+home)
}
