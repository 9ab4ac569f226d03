package exchange

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ApplyChanges applies `docker import --change` (and `docker commit
// --change`) instructions to conf, in order. Each change is one
// Dockerfile instruction of those that only touch the config: CMD,
// ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR.
// CMD, ENTRYPOINT and VOLUME take the JSON-array form or the shell form;
// ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR expand $VAR,
// ${VAR}, ${VAR:-default} and ${VAR:+alternative} from the environment
// set so far, as a Dockerfile does.
func ApplyChanges(conf *ocispec.ImageConfig, changes []string) error {
	for _, line := range changes {
		if err := applyChange(conf, line); errdefs.IsNotImplemented(err) {
			return fmt.Errorf("change %q: %w", line, err)
		} else if err != nil {
			return fmt.Errorf("change %q: %v: %w", line, err, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

func applyChange(c *ocispec.ImageConfig, line string) error {
	line = strings.TrimSpace(line)
	if line == "" {
		return fmt.Errorf("empty instruction")
	}
	kw, rest, _ := strings.Cut(line, " ")
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		kw, rest = line[:i], strings.TrimSpace(line[i+1:])
	}
	env := envLookup(c.Env)
	switch strings.ToUpper(kw) {
	case "CMD", "ENTRYPOINT":
		args, err := commandForm(kw, rest)
		if err != nil {
			return err
		}
		if strings.EqualFold(kw, "CMD") {
			c.Cmd = args
		} else {
			c.Entrypoint = args
		}
	case "ENV":
		pairs, err := keyValues(kw, rest, env)
		if err != nil {
			return err
		}
		for _, kv := range pairs {
			c.Env = setEnv(c.Env, kv[0], kv[1])
		}
	case "LABEL":
		pairs, err := keyValues(kw, rest, env)
		if err != nil {
			return err
		}
		for _, kv := range pairs {
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			c.Labels[kv[0]] = kv[1]
		}
	case "EXPOSE":
		return expose(c, rest, env)
	case "VOLUME":
		return volume(c, rest, env)
	case "WORKDIR":
		dir, err := oneWord(kw, rest, env, true)
		if err != nil {
			return err
		}
		if !path.IsAbs(dir) {
			dir = path.Join("/", c.WorkingDir, dir)
		}
		c.WorkingDir = path.Clean(dir)
	case "USER":
		u, err := oneWord(kw, rest, env, false)
		if err != nil {
			return err
		}
		c.User = u
	case "STOPSIGNAL":
		s, err := oneWord(kw, rest, env, false)
		if err != nil {
			return err
		}
		if !validSignal(s) {
			return fmt.Errorf("STOPSIGNAL: unknown signal %q", s)
		}
		c.StopSignal = s
	case "ONBUILD":
		return fmt.Errorf("ONBUILD is not kept by OCI image configs: %w", errdefs.ErrNotImplemented)
	default:
		return fmt.Errorf("unknown instruction %q: a change is one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR", kw)
	}
	return nil
}

// commandForm parses CMD and ENTRYPOINT arguments: a JSON array of
// strings is the exec form; anything else (as in a Dockerfile, even a
// broken array) is a shell command run by /bin/sh -c.
func commandForm(kw, rest string) ([]string, error) {
	if args, ok := jsonArray(rest); ok {
		return args, nil
	}
	if rest == "" {
		return nil, fmt.Errorf("%s needs a command", strings.ToUpper(kw))
	}
	return []string{"/bin/sh", "-c", rest}, nil
}

func jsonArray(s string) ([]string, bool) {
	if !strings.HasPrefix(s, "[") {
		return nil, false
	}
	var args []string
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		return nil, false
	}
	if args == nil {
		args = []string{}
	}
	return args, true
}

// keyValues parses ENV and LABEL arguments: key=value pairs (quotes and
// escapes as in a shell), or the old form "key value with spaces".
func keyValues(kw, rest string, env func(string) (string, bool)) ([][2]string, error) {
	ws, err := splitWords(rest, env)
	if err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("%s needs key=value", strings.ToUpper(kw))
	}
	var out [][2]string
	if !strings.Contains(ws[0], "=") {
		// Old form: the key, then the rest of the line as the value.
		key, val, _ := strings.Cut(rest, " ")
		if i := strings.IndexAny(rest, " \t"); i >= 0 {
			key, val = rest[:i], strings.TrimSpace(rest[i+1:])
		}
		if val == "" {
			return nil, fmt.Errorf("%s %s: no value (write %s=VALUE)", strings.ToUpper(kw), key, key)
		}
		k, err := expandWord(key, env)
		if err != nil {
			return nil, err
		}
		v, err := expandWord(val, env)
		if err != nil {
			return nil, err
		}
		return append(out, [2]string{k, v}), nil
	}
	for _, w := range ws {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, fmt.Errorf("%s: %q is not key=value", strings.ToUpper(kw), w)
		}
		if k == "" {
			return nil, fmt.Errorf("%s: empty key in %q", strings.ToUpper(kw), w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func oneWord(kw, rest string, env func(string) (string, bool), spaces bool) (string, error) {
	var w string
	if spaces {
		var err error
		if w, err = expandWord(rest, env); err != nil {
			return "", err
		}
	} else {
		ws, err := splitWords(rest, env)
		if err != nil {
			return "", err
		}
		if len(ws) != 1 {
			return "", fmt.Errorf("%s takes exactly one argument, got %d", strings.ToUpper(kw), len(ws))
		}
		w = ws[0]
	}
	if w == "" {
		return "", fmt.Errorf("%s needs an argument", strings.ToUpper(kw))
	}
	return w, nil
}

func expose(c *ocispec.ImageConfig, rest string, env func(string) (string, bool)) error {
	ws, err := splitWords(rest, env)
	if err != nil {
		return err
	}
	if len(ws) == 0 {
		return fmt.Errorf("EXPOSE needs a port")
	}
	for _, w := range ws {
		ports, proto, _ := strings.Cut(w, "/")
		proto = strings.ToLower(proto)
		switch proto {
		case "":
			proto = "tcp"
		case "tcp", "udp", "sctp":
		default:
			return fmt.Errorf("EXPOSE %s: protocol %q is not tcp, udp or sctp", w, proto)
		}
		lo, hi, isRange := strings.Cut(ports, "-")
		first, err1 := strconv.ParseUint(lo, 10, 16)
		last, err2 := first, error(nil)
		if isRange {
			last, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || first == 0 || last < first {
			return fmt.Errorf("EXPOSE %s: not a port or port range in 1-65535", w)
		}
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		for p := first; p <= last; p++ {
			c.ExposedPorts[strconv.FormatUint(p, 10)+"/"+proto] = struct{}{}
		}
	}
	return nil
}

func volume(c *ocispec.ImageConfig, rest string, env func(string) (string, bool)) error {
	vols, ok := jsonArray(rest)
	if !ok {
		var err error
		if vols, err = splitWords(rest, env); err != nil {
			return err
		}
	}
	if len(vols) == 0 {
		return fmt.Errorf("VOLUME needs a path")
	}
	for _, v := range vols {
		if v = strings.TrimSpace(v); v == "" {
			return fmt.Errorf("VOLUME: empty path")
		}
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		c.Volumes[v] = struct{}{}
	}
	return nil
}

func envLookup(envs []string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for i := len(envs) - 1; i >= 0; i-- {
			if k, v, _ := strings.Cut(envs[i], "="); k == name {
				return v, true
			}
		}
		return "", false
	}
}

func setEnv(envs []string, k, v string) []string {
	for i, e := range envs {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			envs[i] = k + "=" + v
			return envs
		}
	}
	return append(envs, k+"="+v)
}

// validSignal accepts what Docker's STOPSIGNAL does on Linux: a signal
// number, or a name with or without SIG (RTMIN+n and RTMAX-n too).
func validSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n >= 1 && n <= 64
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	for _, base := range []string{"RTMIN+", "RTMAX-"} {
		if off, ok := strings.CutPrefix(name, base); ok {
			n, err := strconv.Atoi(off)
			return err == nil && n >= 1 && n <= 15
		}
	}
	switch name {
	case "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
		"PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
		"TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX":
		return true
	}
	return false
}
