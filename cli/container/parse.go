package container

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/berth-dev/berth/cli/format"
)

// parseEnv expands -e values: "K=V" as given, "K" from the client's
// environment (left out when unset there), as docker does.
func parseEnv(values []string, getenv func(string) (string, bool)) ([]string, error) {
	var out []string
	for _, v := range values {
		k, _, hasValue := strings.Cut(v, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid environment variable: %s", v)
		}
		if hasValue {
			out = append(out, v)
			continue
		}
		if val, ok := getenv(k); ok {
			out = append(out, k+"="+val)
		}
	}
	return out, nil
}

// readEnvFile reads an --env-file: one variable per line, blank lines
// and lines starting with # skipped.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, _, _ := strings.Cut(line, "="); strings.ContainsAny(k, " \t") || k == "" {
			return nil, fmt.Errorf("invalid environment variable in %s line %d: %q", path, n, line)
		}
		out = append(out, line)
	}
	return out, sc.Err()
}

// parseKeyValues reads "k=v" (or "k", meaning an empty value) into a
// map: labels, log options, sysctls.
func parseKeyValues(values []string, what string, needValue bool) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if k == "" || (needValue && !ok) {
			return nil, fmt.Errorf("invalid %s: %q: expected key=value", what, v)
		}
		m[k] = val
	}
	return m, nil
}

// parsePorts reads -p values: [ip:][hostPort:]containerPort[/proto],
// where ports may be ranges of the same length ("8000-8001:80-81").
func parsePorts(publish, expose []string) (network.PortSet, network.PortMap, error) {
	set := network.PortSet{}
	bindings := network.PortMap{}
	for _, spec := range publish {
		rest, proto, _ := strings.Cut(spec, "/")
		if proto = strings.ToLower(proto); proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return nil, nil, fmt.Errorf("invalid proto: %s", proto)
		}
		ip, host, ctr := "", "", rest
		if i := strings.LastIndex(rest, ":"); i >= 0 {
			ctr = rest[i+1:]
			front := rest[:i]
			if j := strings.LastIndex(front, ":"); j >= 0 && !strings.HasSuffix(front, "]") {
				ip, host = front[:j], front[j+1:]
			} else if strings.HasPrefix(front, "[") {
				ip = front
			} else {
				host = front
			}
		}
		ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
		var addr netip.Addr
		if ip != "" {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				return nil, nil, fmt.Errorf("invalid IP address in %q: %s", spec, ip)
			}
			addr = a
		}
		cLo, cHi, err := portRange(ctr)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid containerPort in %q: %w", spec, err)
		}
		hLo, hHi := 0, 0
		if host != "" {
			if hLo, hHi, err = portRange(host); err != nil {
				return nil, nil, fmt.Errorf("invalid hostPort in %q: %w", spec, err)
			}
			if hHi-hLo != cHi-cLo && hLo != hHi {
				return nil, nil, fmt.Errorf("invalid ranges specified for container and host Ports: %q", spec)
			}
		}
		for i := 0; i <= cHi-cLo; i++ {
			p, err := network.ParsePort(fmt.Sprintf("%d/%s", cLo+i, proto))
			if err != nil {
				return nil, nil, fmt.Errorf("invalid port %q: %w", spec, err)
			}
			set[p] = struct{}{}
			b := network.PortBinding{HostIP: addr}
			switch {
			case host == "":
			case hLo == hHi && cHi > cLo:
				b.HostPort = strconv.Itoa(hLo)
			default:
				b.HostPort = strconv.Itoa(hLo + i)
			}
			bindings[p] = append(bindings[p], b)
		}
	}
	for _, e := range expose {
		port, proto, _ := strings.Cut(e, "/")
		if proto = strings.ToLower(proto); proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return nil, nil, fmt.Errorf("invalid proto: %s", proto)
		}
		lo, hi, err := portRange(port)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid range format for --expose: %s: %w", e, err)
		}
		for n := lo; n <= hi; n++ {
			p, err := network.ParsePort(fmt.Sprintf("%d/%s", n, proto))
			if err != nil {
				return nil, nil, err
			}
			set[p] = struct{}{}
		}
	}
	return set, bindings, nil
}

// portRange reads "80" or "8000-8010".
func portRange(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = portNumber(a); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = portNumber(b); err != nil {
			return 0, 0, err
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("invalid range %s", s)
		}
	}
	return lo, hi, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return n, nil
}

// parseRestart reads --restart: no, always, unless-stopped,
// on-failure[:N].
func parseRestart(s string) (container.RestartPolicy, error) {
	if s == "" {
		return container.RestartPolicy{}, nil
	}
	name, count, hasCount := strings.Cut(s, ":")
	p := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	if hasCount {
		n, err := strconv.Atoi(count)
		if err != nil {
			return p, fmt.Errorf("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	if err := container.ValidateRestartPolicy(p); err != nil {
		return p, err
	}
	return p, nil
}

// parseUlimit reads name=soft[:hard].
func parseUlimit(s string) (*container.Ulimit, error) {
	name, limits, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return nil, fmt.Errorf("invalid ulimit argument: %s", s)
	}
	softS, hardS, hasHard := strings.Cut(limits, ":")
	soft, err := strconv.ParseInt(softS, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("invalid ulimit soft value %q in %s", softS, s)
	}
	hard := soft
	if hasHard {
		if hard, err = strconv.ParseInt(hardS, 10, 64); err != nil {
			return nil, fmt.Errorf("invalid ulimit hard value %q in %s", hardS, s)
		}
	}
	if soft > hard && hard != -1 {
		return nil, fmt.Errorf("ulimit soft limit must be less than or equal to hard limit: %d > %d", soft, hard)
	}
	return &container.Ulimit{Name: name, Soft: soft, Hard: hard}, nil
}

// parseCPUs reads --cpus ("1.5") as nano CPUs.
func parseCPUs(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e6 || f != f {
		return 0, fmt.Errorf("invalid argument %q for \"--cpus\" flag: failed to parse %s as a rational number", s, s)
	}
	return int64(f * 1e9), nil
}

// parseMemory reads a size flag; "" is 0 and, where allowed, "-1" is
// unlimited.
func parseMemory(s, flag string, allowUnlimited bool) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if s == "-1" && allowUnlimited {
		return -1, nil
	}
	n, err := format.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("invalid argument %q for \"%s\" flag: %w", s, flag, err)
	}
	return n, nil
}

// parseDuration reads a --health-* duration; "" is 0 (inherit).
func parseDuration(s, flag string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid argument %q for \"%s\" flag: expected a duration like 30s", s, flag)
	}
	return d, nil
}

// parseMount reads --mount's CSV: type=bind|volume|tmpfs, source,
// target, readonly, bind-propagation, volume-nocopy, tmpfs-size,
// tmpfs-mode.
func parseMount(s string) (mount.Mount, error) {
	m := mount.Mount{Type: mount.TypeVolume}
	for _, field := range strings.Split(s, ",") {
		k, v, hasValue := strings.Cut(field, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		switch k {
		case "type":
			m.Type = mount.Type(strings.ToLower(v))
		case "source", "src":
			m.Source = v
		case "target", "destination", "dst":
			m.Target = v
		case "readonly", "ro":
			m.ReadOnly = !hasValue || v == "1" || strings.EqualFold(v, "true")
			if hasValue && !m.ReadOnly && v != "0" && !strings.EqualFold(v, "false") {
				return m, fmt.Errorf("invalid value for %s: %s", k, v)
			}
		case "bind-propagation":
			if m.BindOptions == nil {
				m.BindOptions = &mount.BindOptions{}
			}
			m.BindOptions.Propagation = mount.Propagation(v)
		case "volume-nocopy", "volume-subpath", "volume-label", "volume-driver", "volume-opt":
			if m.VolumeOptions == nil {
				m.VolumeOptions = &mount.VolumeOptions{}
			}
			if err := volumeOption(m.VolumeOptions, k, v, hasValue); err != nil {
				return m, err
			}
		case "tmpfs-size":
			n, err := format.ParseBytes(v)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", k, v)
			}
			if m.TmpfsOptions == nil {
				m.TmpfsOptions = &mount.TmpfsOptions{}
			}
			m.TmpfsOptions.SizeBytes = n
		case "tmpfs-mode":
			n, err := strconv.ParseUint(v, 8, 32)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", k, v)
			}
			if m.TmpfsOptions == nil {
				m.TmpfsOptions = &mount.TmpfsOptions{}
			}
			m.TmpfsOptions.Mode = os.FileMode(n)
		default:
			return m, fmt.Errorf("unexpected key '%s' in '%s'", k, field)
		}
	}
	switch m.Type {
	case mount.TypeBind, mount.TypeVolume, mount.TypeTmpfs:
	default:
		return m, fmt.Errorf("invalid mount type %q", m.Type)
	}
	if m.Target == "" {
		return m, fmt.Errorf("target is required")
	}
	if m.Type == mount.TypeBind && m.Source == "" {
		return m, fmt.Errorf("source is required when specifying bind mounts")
	}
	return m, nil
}

// parseDevice reads --device host[:container[:permissions]].
func parseDevice(s string) (container.DeviceMapping, error) {
	parts := strings.Split(s, ":")
	d := container.DeviceMapping{PathOnHost: parts[0], PathInContainer: parts[0], CgroupPermissions: "rwm"}
	switch len(parts) {
	case 1:
	case 2:
		if isPermissions(parts[1]) {
			d.CgroupPermissions = parts[1]
		} else {
			d.PathInContainer = parts[1]
		}
	case 3:
		d.PathInContainer, d.CgroupPermissions = parts[1], parts[2]
		if !isPermissions(parts[2]) {
			return d, fmt.Errorf("invalid device specification: %s", s)
		}
	default:
		return d, fmt.Errorf("invalid device specification: %s", s)
	}
	if !strings.HasPrefix(d.PathOnHost, "/") || !strings.HasPrefix(d.PathInContainer, "/") {
		return d, fmt.Errorf("invalid device specification: %s", s)
	}
	return d, nil
}

func isPermissions(s string) bool {
	return s != "" && strings.Trim(s, "rwm") == "" && len(s) <= 3
}

// parseTmpfs reads --tmpfs path[:options].
func parseTmpfs(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, v := range values {
		path, opts, _ := strings.Cut(v, ":")
		if !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("invalid tmpfs %q: the path must be absolute", v)
		}
		m[path] = opts
	}
	return m, nil
}

// binds are the -v entries that name a source; an anonymous volume
// ("-v /data") goes in Config.Volumes only, as the docker CLI sends it.
func binds(volumes []string) []string {
	var out []string
	for _, v := range volumes {
		if strings.Contains(v, ":") {
			out = append(out, v)
		}
	}
	return out
}

// volumeOption sets one of --mount's volume-* keys.
func volumeOption(o *mount.VolumeOptions, k, v string, hasValue bool) error {
	switch k {
	case "volume-nocopy":
		o.NoCopy = !hasValue || v == "true" || v == "1"
	case "volume-subpath":
		o.Subpath = v
	case "volume-driver":
		if o.DriverConfig == nil {
			o.DriverConfig = &mount.Driver{}
		}
		o.DriverConfig.Name = v
	case "volume-label", "volume-opt":
		key, val, ok := strings.Cut(v, "=")
		if !ok || key == "" {
			return fmt.Errorf("invalid value for %s: %s", k, v)
		}
		if k == "volume-label" {
			if o.Labels == nil {
				o.Labels = map[string]string{}
			}
			o.Labels[key] = val
			return nil
		}
		if o.DriverConfig == nil {
			o.DriverConfig = &mount.Driver{}
		}
		if o.DriverConfig.Options == nil {
			o.DriverConfig.Options = map[string]string{}
		}
		o.DriverConfig.Options[key] = val
	}
	return nil
}
