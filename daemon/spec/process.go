package spec

import (
	"cmp"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultPath is PATH when neither the image nor the request sets one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// process fills everything of process but the user and capabilities.
func (b *builder) process() error {
	p := b.s.Process
	c := b.cfg
	args := append(slices.Clone(c.Entrypoint), c.Cmd...)
	if len(args) == 0 {
		return invalidf("no command specified")
	}
	if b.initEnabled() {
		if b.o.initBinary == "" {
			return invalidf("--init was requested but the daemon has no init binary configured")
		}
		args = append([]string{InitPath, "--"}, args...)
	}
	for _, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return invalidf("invalid command argument %q: it contains a NUL byte", a)
		}
	}
	p.Args = args

	cwd := c.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	if !path.IsAbs(cwd) || strings.IndexByte(cwd, 0) >= 0 {
		return invalidf("the working directory '%s' is invalid, it needs to be an absolute path", c.WorkingDir)
	}
	p.Cwd = path.Clean(cwd)

	env := []string{"PATH=" + defaultPath, "HOSTNAME=" + c.Hostname}
	if c.Tty {
		env = append(env, "TERM=xterm")
	}
	p.Env = mergeEnv(env, c.Env)
	for _, e := range p.Env {
		if strings.IndexByte(e, 0) >= 0 || strings.HasPrefix(e, "=") {
			return invalidf("invalid environment variable: %q", e)
		}
	}

	p.Terminal = c.Tty
	if c.Tty && b.hc.ConsoleSize != [2]uint{} {
		p.ConsoleSize = &specs.Box{Height: b.hc.ConsoleSize[0], Width: b.hc.ConsoleSize[1]}
	}
	if b.hc.OomScoreAdj < -1000 || b.hc.OomScoreAdj > 1000 {
		return invalidf("invalid value %d, range for oom score adj is [-1000, 1000]", b.hc.OomScoreAdj)
	}
	score := b.hc.OomScoreAdj
	p.OOMScoreAdj = &score
	p.NoNewPrivileges = b.sec.noNewPrivs
	if b.hc.Umask != nil {
		if *b.hc.Umask > 0o777 {
			return invalidf("invalid umask %#o", *b.hc.Umask)
		}
		u := *b.hc.Umask
		p.User.Umask = &u
	}
	var err error
	p.Rlimits, err = rlimits(b.hc.Ulimits, b.o.ulimits)
	return err
}

// initEnabled reports whether the process runs under the init reaper: only
// in a PID namespace of its own, where it would otherwise be PID 1.
func (b *builder) initEnabled() bool {
	on := b.o.initDefault
	if b.hc.Init != nil {
		on = *b.hc.Init
	}
	return on && !b.hc.PidMode.IsHost() && !b.hc.PidMode.IsContainer()
}

// mergeEnv applies overrides to defaults as Docker does: NAME=VALUE
// replaces the entry of that name or is appended, a bare NAME removes it.
// Unlike Docker, a name set twice in overrides is kept once, the last value.
func mergeEnv(defaults, overrides []string) []string {
	out := slices.Clone(defaults)
	index := map[string]int{}
	for i, e := range out {
		index[envKey(e)] = i
	}
	for _, e := range overrides {
		k, _, hasValue := strings.Cut(e, "=")
		i, exists := index[k]
		switch {
		case !hasValue && exists:
			out[i] = ""
		case !hasValue:
		case exists && out[i] != "":
			out[i] = e
		default:
			index[k] = len(out)
			out = append(out, e)
		}
	}
	return slices.DeleteFunc(out, func(e string) bool { return e == "" })
}

// rlimitNames are the ulimit names docker accepts, by RLIMIT_ constant.
func rlimitType(name string) (string, bool) {
	switch name {
	case "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
		"nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack":
		return "RLIMIT_" + strings.ToUpper(name), true
	}
	return "", false
}

// rlimits merges the request's ulimits with the daemon's defaults: the
// request's first, in its order, then the defaults it leaves unset, by name.
func rlimits(req, defaults []*container.Ulimit) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	seen := map[string]int{}
	add := func(u *container.Ulimit, override bool) error {
		if u == nil {
			return nil
		}
		t, ok := rlimitType(u.Name)
		if !ok {
			return invalidf("invalid ulimit type: %s", u.Name)
		}
		// -1 is unlimited: RLIM_INFINITY as the unsigned kernel value.
		soft, hard := uint64(u.Soft), uint64(u.Hard)
		if u.Soft < -1 || u.Hard < -1 {
			return invalidf("invalid ulimit %s: values must be -1 (unlimited) or more", u.Name)
		}
		if soft > hard {
			return invalidf("ulimit soft limit must be less than or equal to hard limit: %d > %d", u.Soft, u.Hard)
		}
		r := specs.POSIXRlimit{Type: t, Soft: soft, Hard: hard}
		if i, dup := seen[t]; dup {
			if override {
				out[i] = r
			}
			return nil
		}
		seen[t] = len(out)
		out = append(out, r)
		return nil
	}
	for _, u := range req {
		if err := add(u, true); err != nil {
			return nil, err
		}
	}
	defs := slices.Clone(defaults)
	slices.SortStableFunc(defs, func(a, b *container.Ulimit) int {
		return cmp.Compare(ulimitName(a), ulimitName(b))
	})
	for _, u := range defs {
		if err := add(u, false); err != nil {
			return nil, invalidWrap(err, "invalid default ulimit: %v", err)
		}
	}
	return out, nil
}

func ulimitName(u *container.Ulimit) string {
	if u == nil {
		return ""
	}
	return u.Name
}

// ParseSignal reads a stop signal as Docker accepts it: "SIGTERM", "TERM",
// "15", "SIGRTMIN+3" or "RTMIN+3"; "" is SIGTERM.
func ParseSignal(s string) (unix.Signal, error) {
	if s == "" {
		return unix.SIGTERM, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return 0, invalidf("invalid signal: %s", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if rest, ok := strings.CutPrefix(name, "RTMIN"); ok {
		return rtSignal(s, 34, rest)
	}
	if rest, ok := strings.CutPrefix(name, "RTMAX"); ok {
		return rtSignal(s, 64, rest)
	}
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig, nil
	}
	return 0, invalidf("invalid signal: %s", s)
}

// rtSignal reads the "+n"/"-n" after RTMIN/RTMAX (SIGRTMIN is 34 and
// SIGRTMAX 64 for programs on glibc and musl alike).
func rtSignal(s string, base int, off string) (unix.Signal, error) {
	n := base
	if off != "" {
		d, err := strconv.Atoi(off)
		if err != nil || (off[0] != '+' && off[0] != '-') {
			return 0, invalidf("invalid signal: %s", s)
		}
		n += d
	}
	if n < 34 || n > 64 {
		return 0, invalidf("invalid signal: %s", s)
	}
	return unix.Signal(n), nil
}
