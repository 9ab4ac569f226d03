package container

import (
	"archive/tar"
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/cli/stream"
)

func TestParsePorts(t *testing.T) {
	p := network.MustParsePort
	loop := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		publish, expose []string
		want            network.PortMap
		exposed         []string
	}{
		{[]string{"8080:80"}, nil, network.PortMap{p("80/tcp"): {{HostPort: "8080"}}}, []string{"80/tcp"}},
		{[]string{"80"}, nil, network.PortMap{p("80/tcp"): {{}}}, []string{"80/tcp"}},
		{[]string{"127.0.0.1:8080:80/udp"}, nil, network.PortMap{p("80/udp"): {{HostIP: loop, HostPort: "8080"}}}, []string{"80/udp"}},
		{[]string{"127.0.0.1::80"}, nil, network.PortMap{p("80/tcp"): {{HostIP: loop}}}, []string{"80/tcp"}},
		{[]string{"[::1]:9000:90"}, nil, network.PortMap{p("90/tcp"): {{HostIP: netip.MustParseAddr("::1"), HostPort: "9000"}}}, []string{"90/tcp"}},
		{[]string{"8000-8001:80-81"}, nil, network.PortMap{p("80/tcp"): {{HostPort: "8000"}}, p("81/tcp"): {{HostPort: "8001"}}}, []string{"80/tcp", "81/tcp"}},
		{nil, []string{"7000-7001/udp", "22"}, network.PortMap{}, []string{"22/tcp", "7000/udp", "7001/udp"}},
	} {
		set, got, err := parsePorts(tc.publish, tc.expose)
		if err != nil {
			t.Errorf("parsePorts(%v, %v): %v", tc.publish, tc.expose, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parsePorts(%v): got %v, want %v", tc.publish, got, tc.want)
		}
		var exposed []string
		for port := range set {
			exposed = append(exposed, port.String())
		}
		sort.Strings(exposed)
		if !reflect.DeepEqual(exposed, tc.exposed) {
			t.Errorf("parsePorts(%v, %v) exposed: got %v, want %v", tc.publish, tc.expose, exposed, tc.exposed)
		}
	}
	for _, bad := range []string{"99999:80", "80:", "a:80", "1.2.3:80:80", "8000-8002:80-81", "80-70", "80/bogus", "-1"} {
		if _, _, err := parsePorts([]string{bad}, nil); err == nil {
			t.Errorf("parsePorts(%q): got no error", bad)
		}
	}
}

func TestParseSmall(t *testing.T) {
	env, err := parseEnv([]string{"A=1", "HOME", "UNSET", "B="}, func(k string) (string, bool) {
		if k == "HOME" {
			return "/root", true
		}
		return "", false
	})
	if err != nil || strings.Join(env, ",") != "A=1,HOME=/root,B=" {
		t.Errorf("parseEnv: got %q, %v", env, err)
	}
	if _, err := parseEnv([]string{"=x"}, nil); err == nil {
		t.Errorf("parseEnv(=x): got no error")
	}
	for in, want := range map[string]container.RestartPolicy{
		"no": {Name: "no"}, "always": {Name: "always"}, "on-failure:3": {Name: "on-failure", MaximumRetryCount: 3},
		"unless-stopped": {Name: "unless-stopped"}, "": {},
	} {
		if got, err := parseRestart(in); err != nil || got != want {
			t.Errorf("parseRestart(%q): got %v, %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"sometimes", "always:3", "on-failure:x", "on-failure:-1"} {
		if _, err := parseRestart(bad); err == nil {
			t.Errorf("parseRestart(%q): got no error", bad)
		}
	}
	for in, want := range map[string]container.Ulimit{"nofile=1024:2048": {Name: "nofile", Soft: 1024, Hard: 2048}, "nproc=64": {Name: "nproc", Soft: 64, Hard: 64}} {
		if got, err := parseUlimit(in); err != nil || *got != want {
			t.Errorf("parseUlimit(%q): got %v, %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"nofile", "=1", "nofile=x", "nofile=10:5", "nofile=1:y"} {
		if _, err := parseUlimit(bad); err == nil {
			t.Errorf("parseUlimit(%q): got no error", bad)
		}
	}
	for in, want := range map[string]int64{"1.5": 1_500_000_000, "0.25": 250_000_000, "": 0} {
		if got, err := parseCPUs(in); err != nil || got != want {
			t.Errorf("parseCPUs(%q): got %d, %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "-1", "NaN", "1e9"} {
		if _, err := parseCPUs(bad); err == nil {
			t.Errorf("parseCPUs(%q): got no error", bad)
		}
	}
	if n, err := parseMemory("-1", "--memory-swap", true); err != nil || n != -1 {
		t.Errorf("parseMemory(-1): got %d, %v", n, err)
	}
	if _, err := parseMemory("-1", "--memory", false); err == nil {
		t.Errorf("parseMemory(-1) without unlimited: got no error")
	}
	for in, want := range map[string]container.DeviceMapping{
		"/dev/fuse":          {PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"},
		"/dev/sda:/dev/xvda": {PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "rwm"},
		"/dev/sda:r":         {PathOnHost: "/dev/sda", PathInContainer: "/dev/sda", CgroupPermissions: "r"},
		"/dev/sda:/dev/b:rw": {PathOnHost: "/dev/sda", PathInContainer: "/dev/b", CgroupPermissions: "rw"},
	} {
		if got, err := parseDevice(in); err != nil || got != want {
			t.Errorf("parseDevice(%q): got %v, %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"sda", "/dev/a:/dev/b:x", "/a:/b:r:w"} {
		if _, err := parseDevice(bad); err == nil {
			t.Errorf("parseDevice(%q): got no error", bad)
		}
	}
}

func TestParseMount(t *testing.T) {
	for in, want := range map[string]mount.Mount{
		"type=bind,source=/src,target=/dst,readonly":          {Type: "bind", Source: "/src", Target: "/dst", ReadOnly: true},
		"type=volume,src=data,dst=/data,volume-nocopy":        {Type: "volume", Source: "data", Target: "/data", VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
		"type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1777": {Type: "tmpfs", Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 64 << 20, Mode: 0o1777}},
		"target=/v": {Type: "volume", Target: "/v"},
		"type=bind,src=/a,dst=/b,bind-propagation=rshared,ro=false": {Type: "bind", Source: "/a", Target: "/b", BindOptions: &mount.BindOptions{Propagation: "rshared"}},
	} {
		got, err := parseMount(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseMount(%q): got %+v, %v, want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "type=bind,target=/x", "type=nfs,target=/x", "source=/a", "colour=blue,target=/x", "target=/x,readonly=maybe", "type=tmpfs,target=/t,tmpfs-mode=9"} {
		if _, err := parseMount(bad); err == nil {
			t.Errorf("parseMount(%q): got no error", bad)
		}
	}
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"8080:80", "127.0.0.1::80/udp", "[::1]:1-2:3-4", "80", "::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return // ranges of the whole port space take their time, not a bug
		}
		parsePorts([]string{s}, []string{s})
	})
}

func FuzzParseMount(f *testing.F) {
	f.Add("type=bind,source=/src,target=/dst,readonly")
	f.Add("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1777")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMount(s)
		if err == nil && m.Target == "" {
			t.Fatalf("parseMount(%q) accepted a mount without a target", s)
		}
	})
}

func TestCreateFlags(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("# comment\n\nFROM_FILE=1\n  SPACED=2\n"), 0o644)
	seccomp := filepath.Join(dir, "seccomp.json")
	os.WriteFile(seccomp, []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644)
	o := createFlags{
		env: []string{"A=b"}, envFile: []string{envFile}, labels: []string{"x=y", "flag"}, publish: []string{"8080:80"},
		volumes: []string{"/host:/ctr:ro", "/anon"}, tmpfs: []string{"/run:size=1m"}, capAdd: []string{"NET_ADMIN"},
		securityOpt: []string{"no-new-privileges", "seccomp=" + seccomp}, ulimits: []string{"nofile=10:20"},
		logOpts: []string{"max-size=1m"}, dns: []string{"1.1.1.1"}, entrypoint: "/bin/sh", restart: "on-failure:2",
		memory: "64m", cpus: "0.5", pidsLimit: 50, healthCmd: "true", healthInterval: "5s", healthRetries: 2,
		stopTimeout: 3, init: true, readOnly: true, user: "1000:1000", workdir: "/w", name: "web",
	}
	changed := func(f string) bool { return f == "entrypoint" || f == "pids-limit" || f == "stop-timeout" }
	cfg, err := o.parse("busybox", []string{"echo", "hi"}, func(string) (string, bool) { return "", false }, changed)
	if err != nil {
		t.Fatal(err)
	}
	c, h := cfg.Config, cfg.HostConfig
	checks := []struct {
		name      string
		got, want any
	}{
		{"Image", c.Image, "busybox"},
		{"Cmd", c.Cmd, []string{"echo", "hi"}},
		{"Entrypoint", c.Entrypoint, []string{"/bin/sh"}},
		{"Env", c.Env, []string{"FROM_FILE=1", "SPACED=2", "A=b"}},
		{"Labels", c.Labels, map[string]string{"x": "y", "flag": ""}},
		{"Volumes", c.Volumes, map[string]struct{}{"/anon": {}}},
		{"Healthcheck", *c.Healthcheck, container.HealthConfig{Test: []string{"CMD-SHELL", "true"}, Interval: 5 * time.Second, Retries: 2}},
		{"StopTimeout", *c.StopTimeout, 3},
		{"User/WorkingDir", c.User + " " + c.WorkingDir, "1000:1000 /w"},
		{"Binds", h.Binds, []string{"/host:/ctr:ro"}}, // "/anon" only in Volumes, as docker sends it
		{"Tmpfs", h.Tmpfs, map[string]string{"/run": "size=1m"}},
		{"SecurityOpt", h.SecurityOpt, []string{"no-new-privileges", `seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}},
		{"Ulimits", *h.Ulimits[0], container.Ulimit{Name: "nofile", Soft: 10, Hard: 20}},
		{"LogConfig", h.LogConfig.Config, map[string]string{"max-size": "1m"}},
		{"DNS", h.DNS, []netip.Addr{netip.MustParseAddr("1.1.1.1")}},
		{"RestartPolicy", h.RestartPolicy, container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}},
		{"Memory", h.Memory, int64(64 << 20)},
		{"NanoCPUs", h.NanoCPUs, int64(500_000_000)},
		{"PidsLimit", *h.PidsLimit, int64(50)},
		{"Init", *h.Init, true},
		{"ReadonlyRootfs", h.ReadonlyRootfs, true},
		{"CapAdd", h.CapAdd, []string{"NET_ADMIN"}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	for _, bad := range []createFlags{
		{rm: true, restart: "always"}, {noHealthcheck: true, healthCmd: "x"}, {cpus: "1", cpuQuota: 5},
		{securityOpt: []string{"seccomp=/nonexistent"}}, {securityOpt: []string{"bogus"}}, {dns: []string{"x"}},
		{mounts: []string{"type=bind"}}, {envFile: []string{"/nonexistent"}}, {logOpts: []string{"novalue"}},
		{healthInterval: "soon", healthCmd: "x"}, {tmpfs: []string{"relative"}},
	} {
		if _, err := bad.parse("x", nil, nil, func(string) bool { return false }); err == nil {
			t.Errorf("parse(%+v): got no error", bad)
		}
	}
}

func TestRows(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := container.Summary{
		ID: "0123456789abcdef0123", Names: []string{"/web", "/other/link"}, Image: "sha256:feedfacefeedface", ImageID: "sha256:feedfacefeedface",
		Command: "/bin/sh -c 'sleep 1000 && echo done'", Created: now.Add(-3 * time.Minute).Unix(), Status: "Up 3 minutes",
		Ports: []container.PortSummary{{PrivatePort: 443, Type: "tcp"}, {IP: netip.MustParseAddr("0.0.0.0"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
			{IP: netip.MustParseAddr("::"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"}},
		Labels: map[string]string{"b": "2", "a": "1"}, SizeRw: 1234, SizeRootFs: 5_600_000,
	}
	var b bytes.Buffer
	if err := writeContainers(command.NewOut(&b), []container.Summary{s}, listOptions{size: true}, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if got := strings.Join(strings.Fields(lines[0]), " "); got != "CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES SIZE" {
		t.Errorf("ps header: got %q", got)
	}
	for _, want := range []string{"0123456789ab", "feedfacefeed", `"/bin/sh -c 'sleep 1…"`, "3 minutes ago", "Up 3 minutes",
		"0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 443/tcp", "web", "1.23kB (virtual 5.6MB)"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("ps row lacks %q: %q", want, lines[1])
		}
	}
	if strings.Contains(lines[1], "other/link") {
		t.Errorf("ps row shows a link name: %q", lines[1])
	}
	b.Reset()
	writeContainers(command.NewOut(&b), []container.Summary{s}, listOptions{format: `{{.Label "a"}} {{.Labels}} {{.State}}|{{.Names}}`, noTrunc: true}, now)
	if got := b.String(); got != "1 a=1,b=2 |web,other/link\n" {
		t.Errorf("ps --format: got %q", got)
	}
}

func TestStatsRow(t *testing.T) {
	var s container.StatsResponse
	s.ID, s.Name = "abcdef0123456789", "/web"
	s.CPUStats.CPUUsage.TotalUsage, s.PreCPUStats.CPUUsage.TotalUsage = 3_000, 1_000
	s.CPUStats.SystemUsage, s.PreCPUStats.SystemUsage = 20_000, 10_000
	s.CPUStats.OnlineCPUs = 2
	s.MemoryStats.Usage, s.MemoryStats.Limit = 150<<20, 1<<30
	s.MemoryStats.Stats = map[string]uint64{"total_inactive_file": 50 << 20}
	s.PidsStats.Current = 7
	r := statsRow{s: s, trunc: true}
	for name, tc := range map[string][2]string{
		"CPUPerc": {r.CPUPerc(), "40.00%"}, "MemUsage": {r.MemUsage(), "100MiB / 1GiB"}, "MemPerc": {r.MemPerc(), "9.77%"},
		"PIDs": {r.PIDs(), "7"}, "Name": {r.Name(), "web"}, "ID": {r.ID(), "abcdef012345"}, "NetIO": {r.NetIO(), "0B / 0B"},
	} {
		if tc[0] != tc[1] {
			t.Errorf("%s: got %q, want %q", name, tc[0], tc[1])
		}
	}
}

func TestRunError(t *testing.T) {
	for msg, code := range map[string]int{
		`Error response from daemon: exec: "nope": executable file not found in $PATH`: 127,
		"Error response from daemon: exec /bin/x: permission denied":                   126,
		"Error response from daemon: No such image: x":                                 125,
	} {
		var se command.StatusError
		if err := runError(errors.New(msg)); !errors.As(err, &se) || se.Code != code {
			t.Errorf("runError(%q): got %v, want code %d", msg, err, code)
		}
	}
	for _, keys := range []string{"ctrl-p,ctrl-q", "a,ctrl-@,ctrl-_"} {
		parsed, _ := parseKeysForTest(keys)
		if got := keysString(parsed); got != keys {
			t.Errorf("keysString(ParseKeys(%q)): got %q", keys, got)
		}
	}
}

func TestCopyArchive(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "d", "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "d", "a.txt"), []byte("aaa"), 0o644)
	os.WriteFile(filepath.Join(src, "d", "sub", "b.txt"), []byte("bb"), 0o600)
	os.Symlink("a.txt", filepath.Join(src, "d", "link"))
	var archive bytes.Buffer
	n, err := writeTar(&archive, filepath.Join(src, "d"), "d", false)
	if err != nil || n != 5 {
		t.Fatalf("writeTar: got %d, %v", n, err)
	}
	// Into an existing directory: dst/d/...
	dst := t.TempDir()
	if _, err := extract(bytes.NewReader(archive.Bytes()), "/d", true, dst, ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "d", "sub", "b.txt")); string(b) != "bb" {
		t.Errorf("extract into a directory: b.txt is %q", b)
	}
	if l, _ := os.Readlink(filepath.Join(dst, "d", "link")); l != "a.txt" {
		t.Errorf("extract: link points to %q", l)
	}
	// To a new name: dst/renamed/...
	if _, err := extract(bytes.NewReader(archive.Bytes()), "/d", true, filepath.Join(dst, "renamed"), ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "renamed", "a.txt")); string(b) != "aaa" {
		t.Errorf("extract to a new name: a.txt is %q", b)
	}
	// The contents only ("/d/."), into an existing directory.
	only := t.TempDir()
	if _, err := extract(bytes.NewReader(archive.Bytes()), "/d/.", true, only, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(only, "a.txt")); err != nil {
		t.Errorf("extract of /d/.: %v", err)
	}
	// berthd streams "dir/." as "./…": the contents, into a directory or
	// as a new one.
	var dotted bytes.Buffer
	if _, err := writeTar(&dotted, filepath.Join(src, "d"), ".", false); err != nil {
		t.Fatal(err)
	}
	dots := t.TempDir()
	for _, dir := range []string{dots, filepath.Join(dots, "new")} {
		if _, err := extract(bytes.NewReader(dotted.Bytes()), "/d/.", true, dir, ""); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "sub", "b.txt")); string(b) != "bb" {
			t.Errorf("extract of ./… into %s: b.txt is %q", dir, b)
		}
	}
	// -L: the followed target's entries take the link's name.
	rebased := t.TempDir()
	if _, err := extract(bytes.NewReader(archive.Bytes()), "/link", true, rebased, "link"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(rebased, "link", "a.txt")); string(b) != "aaa" {
		t.Errorf("extract rebased: link/a.txt is %q", b)
	}
	if _, err := extract(bytes.NewReader(archive.Bytes()), "/d", true, filepath.Join(dst, "d", "a.txt"), ""); err == nil {
		t.Errorf("extract of a directory onto a file: got no error")
	}

	// A hostile archive stays inside the target.
	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	for _, name := range []string{"x/../../escape", "/abs/../../../escape2", "x/ok"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte("!"))
	}
	tw.WriteHeader(&tar.Header{Name: "x/lnk", Linkname: "/etc", Typeflag: tar.TypeSymlink})
	tw.WriteHeader(&tar.Header{Name: "x/lnk/passwd", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("!"))
	tw.Close()
	target := filepath.Join(t.TempDir(), "inner")
	os.Mkdir(target, 0o755)
	extract(bytes.NewReader(evil.Bytes()), "/x", true, target, "")
	for _, p := range []string{filepath.Join(filepath.Dir(target), "escape"), filepath.Join(filepath.Dir(filepath.Dir(target)), "escape2")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("hostile archive wrote %s", p)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(target, "x", "ok")); string(b) != "!" {
		t.Errorf("hostile archive: the good entry is %q", b)
	}
}

func parseKeysForTest(s string) ([]byte, error) { return stream.ParseKeys(s) }
