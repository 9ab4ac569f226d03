package spec

import (
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const testID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// testCaps is a fixed host capability list (no CAP_SYS_RESOURCE, as on
// berth's CI machines), so goldens do not follow the capability library.
func testCaps() []string {
	return strings.Fields(`CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID
		CAP_KILL CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE
		CAP_NET_BROADCAST CAP_NET_ADMIN CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE
		CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT
		CAP_SYS_NICE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE
		CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG
		CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE`)
}

// fakeFile is a fs.FileInfo for the fake host.
type fakeFile struct {
	name string
	mode fs.FileMode
}

func (f fakeFile) Name() string       { return f.name }
func (f fakeFile) Size() int64        { return 0 }
func (f fakeFile) Mode() fs.FileMode  { return f.mode }
func (f fakeFile) ModTime() time.Time { return time.Time{} }
func (f fakeFile) IsDir() bool        { return f.mode.IsDir() }
func (f fakeFile) Sys() any           { return nil }

// testHost is an amd64 host on Linux 6.1 whose filesystem has /srv/data,
// /srv/conf.json, /var/run/docker.sock and a few devices.
func testHost() Host {
	mode := fs.FileMode(0o660)
	uid, gid := uint32(0), uint32(6)
	dev := func(p, typ string, major, minor int64) specs.LinuxDevice {
		return specs.LinuxDevice{Path: p, Type: typ, Major: major, Minor: minor, FileMode: &mode, UID: &uid, GID: &gid}
	}
	devices := map[string][]specs.LinuxDevice{
		"/dev/sda":   {dev("/dev/sda", "b", 8, 0)},
		"/dev/fuse":  {dev("/dev/fuse", "c", 10, 229)},
		"/dev/snd":   {dev("/dev/snd/controlC0", "c", 116, 0), dev("/dev/snd/timer", "c", 116, 33)},
		"/dev/null":  {dev("/dev/null", "c", 1, 3)},
		"/dev/kvm":   {dev("/dev/kvm", "c", 10, 232)},
		"/srv/data":  nil,
		"/dev/nvme0": {dev("/dev/nvme0", "c", 238, 0)},
	}
	devices["/dev"] = []specs.LinuxDevice{dev("/dev/kvm", "c", 10, 232), dev("/dev/sda", "b", 8, 0), dev("/dev/fuse", "c", 10, 229)}
	files := map[string]fs.FileMode{"/srv/data": fs.ModeDir | 0o755, "/srv/conf.json": 0o644, "/var/run/docker.sock": fs.ModeSocket | 0o660}
	return Host{
		Arch: "amd64", Kernel: KernelVersion{6, 1}, Caps: testCaps(), Hostname: "buildhost",
		NumCPU: 8, CPUs: "0-7", Mems: "0", RecursiveReadonly: true,
		MaskedPaths: []string{"/sys/devices/system/cpu/cpu0/thermal_throttle"},
		Sysctls:     func(string) bool { return true },
		Stat: func(p string) (fs.FileInfo, error) {
			if m, ok := files[p]; ok {
				return fakeFile{filepath.Base(p), m}, nil
			}
			return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
		},
		Devices: func(p string) ([]specs.LinuxDevice, error) {
			if d, ok := devices[p]; ok {
				return d, nil
			}
			return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
		},
	}
}

// writeRootfs makes a rootfs with the given files (relative paths).
func writeRootfs(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// busyboxIDs are the passwd and group files of a small distribution image.
func busyboxIDs() map[string]string {
	return map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n" +
			"daemon:x:1:1:daemon:/usr/sbin:/bin/false\n" +
			"www-data:x:33:33:www-data:/var/www:/bin/false\n" +
			"tester:x:1000:1000:tester:/home/tester:/bin/sh\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group": "root:x:0:\n" +
			"daemon:x:1:\n" +
			"wheel:x:10:root,tester\n" +
			"tty:x:5:\n" +
			"audio:x:29:tester\n" +
			"www-data:x:33:\n" +
			"tester:x:1000:\n" +
			"docker:x:999:tester\n" +
			"nogroup:x:65534:\n",
	}
}

// golden compares v, as indented JSON, with testdata/golden/name.json, or
// rewrites that file under -update.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s: generated spec differs from the golden file (run go test -update and review the diff)\ngot:\n%s", file, got)
	}
}

// goldenResult is what golden files record of a Result. The seccomp
// profile, when it is the default profile's expansion for the container's
// capabilities, is named rather than repeated in every file.
type goldenResult struct {
	Spec        *specs.Spec
	Seccomp     string   `json:",omitempty"`
	StopSignal  int      `json:",omitempty"`
	StopTimeout *int     `json:",omitempty"`
	HostDirs    []string `json:",omitempty"`
	Warnings    []string `json:",omitempty"`
}

func toGolden(t *testing.T, r *Result, h Host) goldenResult {
	t.Helper()
	s := *r.Spec
	lin := *s.Linux
	s.Linux = &lin
	g := goldenResult{Spec: &s, StopSignal: int(r.StopSignal), StopTimeout: r.StopTimeout, HostDirs: r.HostDirs, Warnings: r.Warnings}
	if lin.Seccomp != nil {
		def, err := DefaultProfile().Spec(s.Process.Capabilities.Bounding, h)
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(def, lin.Seccomp) {
			g.Seccomp = "DefaultProfile for these capabilities"
			lin.Seccomp = nil
		}
	}
	return g
}
