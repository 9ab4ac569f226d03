// Package spec_test runs containers from specs that daemon/spec generates
// with berth-runtime, and checks from inside them that Docker's defaults
// (capabilities, seccomp, mounts, masked paths, cgroup limits, the user)
// took effect.
package spec_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/daemon/spec"
	"github.com/berth-dev/berth/internal/testbundle"
	"github.com/berth-dev/berth/internal/testutil"
)

// binary is the berth-runtime under test: $BERTH_RUNTIME (make test sets
// it), else a build of this tree made by TestMain.
var binary string

func TestMain(m *testing.M) {
	binary = os.Getenv("BERTH_RUNTIME")
	var tmp string
	if binary == "" && os.Geteuid() == 0 {
		var err error
		if tmp, err = os.MkdirTemp("", "berth-spec-test-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		binary = filepath.Join(tmp, "berth-runtime")
		_, self, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/berth-runtime")
		cmd.Dir = filepath.Join(filepath.Dir(self), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build berth-runtime: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	if obs, err := testbundle.Observer(nil); err == nil && obs != "" {
		os.RemoveAll(filepath.Dir(obs))
	}
	os.Exit(code)
}

var seq atomic.Int64

// box is one test's runtime root and busybox rootfs.
type box struct {
	t      *testing.T
	root   string // berth-runtime --root
	rootfs string
	host   spec.Host
}

func newBox(t *testing.T) *box {
	t.Helper()
	testutil.RequireRoot(t)
	testbundle.Busybox(t)
	b := &box{t: t, root: t.TempDir(), rootfs: filepath.Join(t.TempDir(), "rootfs")}
	if err := testbundle.MakeRootfs(t, b.rootfs); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(b.rootfs, "bin", "unshare")); err != nil {
		t.Fatal(err)
	}
	h, err := spec.ProbeHost()
	if err != nil {
		t.Fatal(err)
	}
	b.host = h
	t.Cleanup(func() {
		ents, _ := os.ReadDir(b.root)
		for _, e := range ents {
			exec.Command(binary, "--root", b.root, "delete", "--force", e.Name()).Run()
		}
	})
	return b
}

type result struct {
	stdout, stderr string
	code           int
	spec           *spec.Result
}

// run generates the spec of a container for cfg and hc, writes the bundle
// and runs it to completion.
func (b *box) run(cfg *container.Config, hc *container.HostConfig, opts ...spec.Option) result {
	b.t.Helper()
	id := fmt.Sprintf("spec%06d%04dfeedfacefeedface", os.Getpid()%1000000, seq.Add(1))
	bundle := b.t.TempDir()
	files := spec.Files{}
	for name, content := range map[string]string{"hosts": "127.0.0.1 localhost\n", "hostname": id[:12] + "\n", "resolv.conf": "nameserver 127.0.0.53\n"} {
		p := filepath.Join(bundle, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.t.Fatal(err)
		}
		switch name {
		case "hosts":
			files.Hosts = p
		case "hostname":
			files.Hostname = p
		default:
			files.ResolvConf = p
		}
	}
	r, err := spec.Generate(spec.Input{ID: id, Config: cfg, HostConfig: hc, Rootfs: b.rootfs, Files: files},
		append([]spec.Option{spec.WithHost(b.host), spec.WithRootPath(b.rootfs)}, opts...)...)
	if err != nil {
		b.t.Fatalf("Generate: %v", err)
	}
	for _, d := range r.HostDirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.t.Fatal(err)
		}
	}
	data, err := json.MarshalIndent(r.Spec, "", "  ")
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		b.t.Fatal(err)
	}
	out, errf := tempFile(b.t), tempFile(b.t)
	cmd := exec.Command(binary, "--root", b.root, "run", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = out, errf
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start berth-runtime: %v", err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	cmd.Wait()
	if !timer.Stop() {
		b.t.Fatalf("berth-runtime run %s: timed out; stderr: %s", id, readBack(errf))
	}
	return result{readBack(out), readBack(errf), cmd.ProcessState.ExitCode(), r}
}

// observe runs the observer's info and decodes it.
func (b *box) observe(cfg *container.Config, hc *container.HostConfig, opts ...spec.Option) observed {
	b.t.Helper()
	if cfg == nil {
		cfg = &container.Config{}
	}
	cfg.Cmd = []string{"/observer", "info"}
	res := b.run(cfg, hc, opts...)
	if res.code != 0 {
		b.t.Fatalf("observer: exit %d, stderr: %s", res.code, res.stderr)
	}
	var o observed
	if err := json.Unmarshal([]byte(res.stdout), &o); err != nil {
		b.t.Fatalf("decode observer output %q: %v", res.stdout, err)
	}
	return o
}

type observed struct {
	UID, GID, EUID, EGID int
	Groups               []int
	Cwd                  string
	Hostname, Domainname string
	Status               map[string]string
	Cgroup               string
	Mountinfo            string
	Env                  []string
	Umask                int
	OOMScoreAdj          string
}

// mount returns the mountinfo line of a mount point, "" if none.
func (o observed) mount(point string) string {
	for _, l := range strings.Split(o.Mountinfo, "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == point {
			return l
		}
	}
	return ""
}

func tempFile(t *testing.T) *os.File {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readBack(f *os.File) string {
	data, _ := os.ReadFile(f.Name())
	return string(data)
}
