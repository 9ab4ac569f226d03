package engine_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/internal/testbundle"
	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/internal/testregistry"
)

// helpersOnce puts berth-runtime and berth-shim beside the berthd under
// test, where berthd looks for them: bin/ holds them when make test runs
// (BERTHD=bin/berthd); for a berthd TestMain built, they are built from
// this tree once.
var (
	helpersOnce sync.Once
	helpersErr  error
)

func ensureHelpers(t *testing.T) {
	t.Helper()
	helpersOnce.Do(func() {
		dir := filepath.Dir(berthd)
		_, self, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(self), "..", "..")
		for _, name := range []string{"berth-runtime", "berth-shim", "berth-init"} {
			dst := filepath.Join(dir, name)
			if _, err := os.Stat(dst); err == nil {
				continue
			}
			cmd := exec.Command("make", "bin/"+name)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				helpersErr = fmt.Errorf("make bin/%s: %v\n%s", name, err, out)
				return
			}
			if err := copyExecutable(filepath.Join(root, "bin", name), dst); err != nil {
				helpersErr = err
				return
			}
		}
	})
	if helpersErr != nil {
		t.Fatal(helpersErr)
	}
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// busybox is the test image: a static busybox with its applets linked,
// /etc/passwd and /etc/group; built once per test binary.
var (
	busyboxOnce sync.Once
	busyboxImg  *testimage.Image
)

func busyboxImage(t *testing.T) *testimage.Image {
	t.Helper()
	busyboxOnce.Do(func() {
		files := testimage.BusyboxFiles(t)
		for _, a := range append(testbundle.Applets, "stty", "tty", "trap", "printf", "nproc", "cut") {
			if a == "sh" || a == "trap" {
				continue
			}
			files = append(files, testimage.File{Name: "bin/" + a, Type: tar.TypeSymlink, Link: "busybox"})
		}
		files = append(files,
			testimage.File{Name: "etc/", Type: tar.TypeDir, Mode: 0o755},
			testimage.File{Name: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
			testimage.File{Name: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
			testimage.File{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
			testimage.File{Name: "root/", Type: tar.TypeDir, Mode: 0o700},
		)
		busyboxImg = testimage.Build(t, testimage.Spec{
			Cmd:    []string{"sh"},
			Env:    []string{"PATH=/bin"},
			Layers: []testimage.Layer{{Compression: testimage.Gzip, Files: files}},
		})
	})
	if busyboxImg == nil {
		t.Fatal("test image was not built")
	}
	return busyboxImg
}

// ctrDaemon is a berthd for container tests, with the test image pulled
// into it. When the test ends, every container is removed and the test
// fails if anything is left: mounts, shims, cgroups, runtime state.
type ctrDaemon struct {
	*daemon
	Image string // the test image's reference
}

func newCtrDaemon(t *testing.T, args ...string) *ctrDaemon {
	t.Helper()
	ensureHelpers(t)
	d := newDaemon(t, args...)
	reg := testregistry.Start(t, testregistry.Options{})
	img := busyboxImage(t)
	ref := reg.Ref("busybox", ":test")
	testimage.Push(t, img.Manifest, img.Blobs, ref, reg.Creds())
	d.OK("pull", "-q", ref)
	cd := &ctrDaemon{daemon: d, Image: ref}
	t.Cleanup(func() { cd.checkClean() })
	return cd
}

// checkClean removes every container (while berthd runs) and checks that
// nothing of them is left.
func (d *ctrDaemon) checkClean() {
	t := d.t
	if !d.Running() {
		return // a test that stopped berthd for good checks itself
	}
	ids := lines(d.Docker("ps", "-aq", "--no-trunc").Stdout)
	if len(ids) > 0 {
		if r := d.Docker(append([]string{"rm", "-f"}, ids...)...); r.Code != 0 {
			t.Errorf("docker rm -f: %s", r.Stderr)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := d.leftovers(ids)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("left behind after removing every container:\n%s", strings.Join(left, "\n"))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leftovers lists what containers left: mounts under the data root, shim
// processes of this berthd, cgroups and runtime state of the ids.
func (d *ctrDaemon) leftovers(ids []string) []string {
	var out []string
	mps, _ := mount.Under(d.Data)
	for _, m := range mps {
		out = append(out, "mount "+m)
	}
	for _, pid := range d.shimPids() {
		out = append(out, fmt.Sprintf("shim process %d", pid))
	}
	for _, id := range ids {
		cgs, _ := filepath.Glob("/sys/fs/cgroup/*/berth/" + id)
		for _, cg := range cgs {
			out = append(out, "cgroup "+cg)
		}
	}
	for _, dir := range []string{filepath.Join(d.Exec, "runtime"), filepath.Join(d.Exec, "containers"), filepath.Join(d.Data, "containers")} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			out = append(out, "state "+filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// shimPids lists the shims whose state lies under this berthd's exec
// root.
func (d *ctrDaemon) shimPids() []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("berth-shim")) {
			continue
		}
		if bytes.Contains(b, []byte(filepath.Join(d.Exec, "containers")+"/")) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// inspect returns a Go template's value for a container.
func (d *ctrDaemon) inspect(ref, format string) string {
	d.t.Helper()
	return strings.TrimSpace(d.OK("inspect", "-f", format, ref))
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
