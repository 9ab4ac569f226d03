package spec

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// TestArgs checks how the request's Entrypoint and Cmd combine with the
// image's (docker run's documented rules).
func TestArgs(t *testing.T) {
	img := &ocispec.ImageConfig{Entrypoint: []string{"/entry.sh"}, Cmd: []string{"serve", "--port=80"}}
	tests := []struct {
		name            string
		entrypoint, cmd []string
		want            string
	}{
		{name: "image defaults", want: "/entry.sh serve --port=80"},
		{name: "cmd replaces the image cmd, keeps its entrypoint", cmd: []string{"migrate"}, want: "/entry.sh migrate"},
		{name: "entrypoint drops the image cmd", entrypoint: []string{"/bin/sh"}, want: "/bin/sh"},
		{name: "entrypoint and cmd", entrypoint: []string{"/bin/sh", "-c"}, cmd: []string{"echo hi"}, want: "/bin/sh -c echo hi"},
		{name: "entrypoint reset with a cmd", entrypoint: []string{""}, cmd: []string{"ls", "-l"}, want: "ls -l"},
		{name: "empty entrypoint list keeps the image cmd only", entrypoint: []string{}, want: "serve --port=80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Generate(Input{ID: testID, Image: img, Config: &container.Config{Entrypoint: tt.entrypoint, Cmd: tt.cmd}}, WithHost(testHost()))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.Spec.Process.Args, " "); got != tt.want {
				t.Errorf("got args %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMergeImage(t *testing.T) {
	img := &ocispec.ImageConfig{
		User: "app", WorkingDir: "/app", StopSignal: "SIGINT",
		Env:          []string{"PATH=/opt/bin:/usr/bin", "MODE=prod", "LANG=C"},
		Labels:       map[string]string{"a": "image", "b": "image"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}},
		Volumes:      map[string]struct{}{"/data": {}},
	}
	req := &container.Config{Env: []string{"MODE=dev"}, Labels: map[string]string{"a": "request"}, WorkingDir: "/work"}
	got, err := MergeImage(req, img)
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "app" || got.WorkingDir != "/work" || got.StopSignal != "SIGINT" {
		t.Errorf("got user %q workdir %q stop %q, want app /work SIGINT", got.User, got.WorkingDir, got.StopSignal)
	}
	if want := []string{"MODE=dev", "PATH=/opt/bin:/usr/bin", "LANG=C"}; !slices.Equal(got.Env, want) {
		t.Errorf("got env %q, want %q", got.Env, want)
	}
	if got.Labels["a"] != "request" || got.Labels["b"] != "image" || len(got.ExposedPorts) != 1 || len(got.Volumes) != 1 {
		t.Errorf("got labels %v ports %v volumes %v", got.Labels, got.ExposedPorts, got.Volumes)
	}
	if len(req.Env) != 1 || len(req.Labels) != 1 {
		t.Errorf("MergeImage modified the request: %+v", req)
	}
	if _, err := MergeImage(nil, &ocispec.ImageConfig{ExposedPorts: map[string]struct{}{"http": {}}}); err == nil {
		t.Error("got no error for an image exposing port \"http\"")
	}
}

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		defaults, overrides, want []string
	}{
		{[]string{"PATH=/bin", "HOSTNAME=h"}, []string{"A=1"}, []string{"PATH=/bin", "HOSTNAME=h", "A=1"}},
		{[]string{"PATH=/bin", "HOSTNAME=h"}, []string{"PATH=/usr/bin", "HOSTNAME=other"}, []string{"PATH=/usr/bin", "HOSTNAME=other"}},
		{[]string{"PATH=/bin", "TERM=xterm"}, []string{"TERM"}, []string{"PATH=/bin"}},
		{[]string{"PATH=/bin"}, []string{"A=1", "A=2", "B"}, []string{"PATH=/bin", "A=2"}},
		{[]string{"PATH=/bin"}, []string{"PATH", "PATH=/x"}, []string{"PATH=/x"}},
		{[]string{"PATH=/bin"}, []string{"EMPTY="}, []string{"PATH=/bin", "EMPTY="}},
	}
	for _, tt := range tests {
		if got := mergeEnv(tt.defaults, tt.overrides); !slices.Equal(got, tt.want) {
			t.Errorf("mergeEnv(%q, %q): got %q, want %q", tt.defaults, tt.overrides, got, tt.want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{
		"": unix.SIGTERM, "SIGKILL": unix.SIGKILL, "term": unix.SIGTERM, "QUIT": unix.SIGQUIT, "9": unix.SIGKILL,
		"SIGRTMIN": 34, "SIGRTMIN+3": 37, "RTMAX-1": 63, "sigusr1": unix.SIGUSR1,
	} {
		got, err := ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q): got %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "65", "-1", "SIGFOO", "RTMIN+31", "RTMIN3", "SIG"} {
		if _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q): got no error", in)
		}
	}
}

func TestMergeTmpfsOptions(t *testing.T) {
	tests := []struct {
		data string
		want string
	}{
		{"", "noexec,nosuid,nodev,rprivate"},
		{"exec", "nosuid,nodev,rprivate,exec"},
		{"size=1g,size=2g,mode=0700", "noexec,nosuid,nodev,rprivate,size=2g,mode=0700"},
		{"ro,rw,shared", "noexec,nosuid,nodev,rw,shared"},
		{"defaults,uid=1000,gid=1000,nr_inodes=10k", "noexec,nosuid,nodev,rprivate,uid=1000,gid=1000,nr_inodes=10k"},
		{"size=50%", "noexec,nosuid,nodev,rprivate,size=50%"},
	}
	for _, tt := range tests {
		m, err := tmpfsMount("/t", tt.data)
		if err != nil {
			t.Errorf("tmpfs %q: %v", tt.data, err)
			continue
		}
		if got := strings.Join(m.Options, ","); got != tt.want {
			t.Errorf("tmpfs %q: got %s, want %s", tt.data, got, tt.want)
		}
	}
	for _, bad := range []string{"size=", "size=1x", "uid=-1", "mode=8", "mpol=a,b", "nosuchflag", "remount", "size=1g,", "bind"} {
		if _, err := tmpfsMount("/t", bad); err == nil {
			t.Errorf("tmpfs %q: got no error", bad)
		}
	}
}

func TestDeviceCgroupRule(t *testing.T) {
	for _, ok := range []string{"c 1:3 rwm", "b *:* m", "a *:* rwm", "a", "c 189:* r", "b 8:0 rw"} {
		if _, err := parseDeviceCgroupRule(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "c", "c 1:3", "x 1:3 rwm", "c 1 rwm", "c a:b rwm", "c 1:3 rwmr", "c 1:3  rwm", "c 1:3 rwm extra", "c 99999999999:1 r", "c -1:3 r"} {
		if _, err := parseDeviceCgroupRule(bad); err == nil {
			t.Errorf("%q: got no error", bad)
		}
	}
}

func TestSecurityOpts(t *testing.T) {
	s, w, err := parseSecurityOpts([]string{"no-new-privileges:true", "label=disable", "apparmor=unconfined", "seccomp=builtin", "writable-cgroups=true"}, false)
	if err != nil || !s.noNewPrivs || s.seccomp != "builtin" || !s.writableCgroups || len(w) != 0 {
		t.Errorf("got %+v, %v, %v", s, w, err)
	}
	s, _, err = parseSecurityOpts([]string{"no-new-privileges=false"}, true)
	if err != nil || s.noNewPrivs {
		t.Errorf("no-new-privileges=false over a daemon default of true: got %+v, %v", s, err)
	}
	s, _, err = parseSecurityOpts([]string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}, false)
	if err != nil || s.seccomp != `{"defaultAction":"SCMP_ACT_ALLOW"}` {
		t.Errorf("got %+v, %v", s, err)
	}
}

// TestSwapDefaults: Docker's swap defaults and the hosts without swap
// accounting.
func TestSwapDefaults(t *testing.T) {
	for _, tt := range []struct {
		mem, swap int64
		noAcct    bool
		want      int64 // 0 = no swap limit set
	}{
		{mem: 64 << 20, want: 128 << 20},
		{mem: 64 << 20, swap: 100 << 20, want: 100 << 20},
		{mem: 64 << 20, swap: -1, want: -1},
		{mem: 64 << 20, noAcct: true, want: -1},
	} {
		h := testHost()
		h.NoSwapAccounting = tt.noAcct
		r, err := Generate(Input{ID: testID, Config: &container.Config{Cmd: []string{"sh"}},
			HostConfig: &container.HostConfig{Resources: container.Resources{Memory: tt.mem, MemorySwap: tt.swap}}}, WithHost(h))
		if err != nil {
			t.Fatal(err)
		}
		got := int64(0)
		if s := r.Spec.Linux.Resources.Memory.Swap; s != nil {
			got = *s
		}
		if got != tt.want || r.HostConfig.MemorySwap != tt.want {
			t.Errorf("memory %d swap %d (no accounting %v): got swap %d (stored %d), want %d", tt.mem, tt.swap, tt.noAcct, got, r.HostConfig.MemorySwap, tt.want)
		}
	}
}

// TestPidsDefault: berth's default pids limit applies only when the
// request sets none; 0 or -1 from the request means unlimited.
func TestPidsDefault(t *testing.T) {
	for _, tt := range []struct {
		req  *int64
		opts []Option
		want int64 // 0 = no pids limit in the spec
	}{
		{want: DefaultPidsLimit},
		{opts: []Option{WithDefaultPidsLimit(100)}, want: 100},
		{opts: []Option{WithDefaultPidsLimit(0)}, want: 0},
		{req: ptr(int64(50)), want: 50},
		{req: ptr(int64(0)), want: -1},
		{req: ptr(int64(-1)), want: -1},
	} {
		r, err := Generate(Input{ID: testID, Config: &container.Config{Cmd: []string{"sh"}},
			HostConfig: &container.HostConfig{Resources: container.Resources{PidsLimit: tt.req}}}, append([]Option{WithHost(testHost())}, tt.opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		got := int64(0)
		if p := r.Spec.Linux.Resources.Pids; p != nil {
			got = *p.Limit
		}
		if got != tt.want {
			t.Errorf("request %v: got pids limit %d, want %d", tt.req, got, tt.want)
		}
	}
}
