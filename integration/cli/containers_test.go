package cli_test

import (
	"archive/tar"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testbundle"
	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/internal/testregistry"
)

// helpers puts berth-runtime and berth-shim beside the berthd under
// test, where berthd looks for them (make test has them in bin/ already).
var (
	helpersOnce sync.Once
	helpersErr  error
)

func ensureHelpers(t *testing.T) {
	t.Helper()
	helpersOnce.Do(func() {
		_, self, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(self), "..", "..")
		for _, name := range []string{"berth-runtime", "berth-shim"} {
			dst := filepath.Join(filepath.Dir(berthd), name)
			if _, err := os.Stat(dst); err == nil {
				continue
			}
			cmd := exec.Command("make", "bin/"+name)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				helpersErr = fmt.Errorf("make bin/%s: %v\n%s", name, err, out)
				return
			}
			b, err := os.ReadFile(filepath.Join(root, "bin", name))
			if err == nil {
				err = os.WriteFile(dst, b, 0o755)
			}
			if err != nil {
				helpersErr = err
				return
			}
		}
	})
	if helpersErr != nil {
		t.Fatal(helpersErr)
	}
}

// busyboxFiles is a rootfs: the static busybox with the applets the
// tests use, /etc/passwd and a /tmp.
func busyboxFiles(t *testing.T) []testimage.File {
	files := testimage.BusyboxFiles(t)
	for _, a := range append(testbundle.Applets, "pwd", "env", "wc", "mkdir", "touch") {
		if a != "sh" {
			files = append(files, testimage.File{Name: "bin/" + a, Type: tar.TypeSymlink, Link: "busybox"})
		}
	}
	return append(files,
		testimage.File{Name: "etc/", Type: tar.TypeDir, Mode: 0o755},
		testimage.File{Name: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		testimage.File{Name: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		testimage.File{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
	)
}

// containerDaemon starts berthd with its helpers and imports a busybox
// image as "bb".
func containerDaemon(t *testing.T) *daemon {
	t.Helper()
	if os.Geteuid() != 0 {
		newDaemon(t) // skips, or fails under BERTH_CI=1
	}
	ensureHelpers(t)
	d := newDaemon(t)
	tarball, err := testimage.Tar(busyboxFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bb.tar")
	os.WriteFile(path, tarball, 0o644)
	d.OK("import", "-c", `CMD ["sh"]`, "-c", "ENV PATH=/bin", path, "bb")
	t.Cleanup(func() {
		if ids := lines(d.Berth("ps", "-aq").Stdout); len(ids) > 0 {
			d.Berth(append([]string{"rm", "-f"}, ids...)...)
		}
	})
	return d
}

// TestRun: run's output, exit statuses and options.
func TestRun(t *testing.T) {
	d := containerDaemon(t)
	if out := d.OK("run", "--rm", "bb", "echo", "hello", "world"); out != "hello world\n" {
		t.Errorf("berth run --rm bb echo: got %q", out)
	}
	if out := d.OK("ps", "-aq"); out != "" {
		t.Errorf("berth ps -aq after run --rm: got %q, want nothing", out)
	}
	r := d.Berth("run", "--rm", "bb", "sh", "-c", "echo out; echo err >&2; exit 3")
	if r.Code != 3 || r.Stdout != "out\n" || r.Stderr != "err\n" {
		t.Errorf("berth run exiting 3: got %s", r)
	}
	if r := d.Berth("run", "--rm", "bb", "nosuchcommand"); r.Code != 127 {
		t.Errorf("berth run of a missing command: got %s, want exit 127", r)
	}
	if r := d.Berth("run", "--rm", "bb", "/etc/passwd"); r.Code != 126 {
		t.Errorf("berth run of a file that is not executable: got %s, want exit 126", r)
	}
	if out := d.OK("run", "--rm", "-e", "A=b", "-w", "/tmp", "-u", "65534", "--name", "opts", "bb", "sh", "-c", "echo $A $(pwd) $(id -u)"); out != "b /tmp 65534\n" {
		t.Errorf("berth run -e -w -u: got %q", out)
	}
	if r := d.BerthIn(strings.NewReader("piped\nlines\n"), "run", "-i", "--rm", "bb", "wc", "-l"); strings.TrimSpace(r.Stdout) != "2" || r.Code != 0 {
		t.Errorf("berth run -i with piped stdin: got %s", r)
	}
	if out := d.OK("run", "--rm", "--entrypoint", "echo", "bb", "from", "entrypoint"); out != "from entrypoint\n" {
		t.Errorf("berth run --entrypoint: got %q", out)
	}

	// Bad input: run's own failures exit 125.
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"run", "--rm", "127.0.0.1:1/nosuch:v1"}, "Unable to find image '127.0.0.1:1/nosuch:v1' locally"},
		{[]string{"run", "--rm", "--pull", "never", "nosuch/image"}, "Error response from daemon"},
		{[]string{"run", "--memory", "lots", "bb"}, `invalid argument "lots" for "--memory" flag`},
		{[]string{"run", "-p", "99999:80", "bb"}, "invalid hostPort"},
		{[]string{"run", "--restart", "sometimes", "bb"}, "invalid restart policy"},
		{[]string{"run", "--bogus", "bb"}, "unknown flag: --bogus"},
	} {
		r := d.Berth(tc.args...)
		if r.Code != 125 || !strings.Contains(r.Stderr, tc.stderr) {
			t.Errorf("berth %s: got %s\nwant exit 125 and %q", strings.Join(tc.args, " "), r, tc.stderr)
		}
	}
	if out := d.OK("ps", "-aq"); out != "" {
		t.Errorf("berth ps -aq after failed runs: got %q, want nothing", out)
	}
}

// TestDetached: run -d, then ps, logs, inspect, stop, rm.
func TestDetached(t *testing.T) {
	d := containerDaemon(t)
	id := strings.TrimSpace(d.OK("run", "-d", "--name", "web", "-l", "tier=front", "bb", "sh", "-c", "echo started; exec sleep 1000"))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("berth run -d: got %q, want an ID", id)
	}
	table := lines(d.OK("ps"))
	if len(table) != 2 || strings.Join(strings.Fields(table[0]), " ") != "CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES" ||
		!strings.HasPrefix(table[1], id[:12]) || !strings.Contains(table[1], " Up ") || !strings.HasSuffix(table[1], "web") {
		t.Errorf("berth ps: got %q", table)
	}
	if got := strings.TrimSpace(d.OK("ps", "-q")); got != id[:12] {
		t.Errorf("berth ps -q: got %q", got)
	}
	if got := strings.TrimSpace(d.OK("container", "ls", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Image}} {{.State}} {{.Label \"tier\"}}")); got != id+" web bb running front" {
		t.Errorf("berth container ls --format: got %q", got)
	}
	if got := strings.TrimSpace(d.OK("ps", "-q", "--filter", "name=web")); got != id[:12] {
		t.Errorf("berth ps --filter name=web: got %q", got)
	}
	waitFor(t, func() bool { return d.Berth("logs", "web").Stdout == "started\n" }, "berth logs web to print 'started'")
	if got := strings.TrimSpace(d.OK("inspect", "-f", "{{.State.Running}} {{.Name}} {{.Config.Labels.tier}}", "web")); got != "true /web front" {
		t.Errorf("berth inspect -f: got %q", got)
	}
	if got := strings.TrimSpace(d.OK("container", "inspect", "--format", "{{.Id}}", id[:12])); got != id {
		t.Errorf("berth container inspect by short ID: got %q", got)
	}
	if r := d.Berth("run", "-d", "--name", "web", "bb"); r.Code != 125 || !strings.Contains(r.Stderr, "Conflict") && !strings.Contains(r.Stderr, "already in use") {
		t.Errorf("berth run with a taken name: got %s", r)
	}
	if r := d.Berth("rm", "web"); r.Code != 1 || !strings.Contains(r.Stderr, "Error response from daemon") {
		t.Errorf("berth rm of a running container: got %s", r)
	}
	if out := d.OK("pause", "web"); out != "web\n" {
		t.Errorf("berth pause: got %q", out)
	}
	if got := strings.TrimSpace(d.OK("ps", "--format", "{{.Status}}")); !strings.HasSuffix(got, "(Paused)") {
		t.Errorf("berth ps of a paused container: got %q", got)
	}
	if out := d.OK("unpause", "web"); out != "web\n" {
		t.Errorf("berth unpause: got %q", out)
	}
	if out := d.OK("restart", "-t", "1", "web"); out != "web\n" {
		t.Errorf("berth restart: got %q", out)
	}
	waitFor(t, func() bool { return d.Berth("logs", "web").Stdout == "started\nstarted\n" }, "berth logs web to print 'started' twice")
	if out := d.OK("logs", "--tail", "1", "-t", "web"); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT[0-9:.]+Z started\n$`).MatchString(out) {
		t.Errorf("berth logs --tail 1 -t: got %q", out)
	}
	if out := d.OK("stop", "-t", "1", "web"); out != "web\n" {
		t.Errorf("berth stop: got %q", out)
	}
	if got := strings.TrimSpace(d.OK("inspect", "-f", "{{.State.Running}}", "web")); got != "false" {
		t.Errorf("after stop, running: got %q", got)
	}
	if out := d.OK("ps", "-q"); out != "" {
		t.Errorf("berth ps -q after stop: got %q", out)
	}
	if got := lines(d.OK("ps", "-a", "--format", "{{.Names}} {{.Status}}")); len(got) != 1 || !strings.HasPrefix(got[0], "web Exited (") {
		t.Errorf("berth ps -a after stop: got %q", got)
	}
	if out := d.OK("start", "web"); out != "web\n" {
		t.Errorf("berth start: got %q", out)
	}
	if out := d.OK("kill", "web"); out != "web\n" {
		t.Errorf("berth kill: got %q", out)
	}
	if out := d.OK("wait", "web"); strings.TrimSpace(out) != "137" {
		t.Errorf("berth wait after kill: got %q, want 137", out)
	}
	if out := d.OK("rename", "web", "web2"); out != "" {
		t.Errorf("berth rename: got %q", out)
	}
	if out := d.OK("rm", "web2"); out != "web2\n" {
		t.Errorf("berth rm: got %q", out)
	}
	r := d.Berth("rm", "web2", "nosuch")
	if r.Code != 1 || !strings.Contains(r.Stderr, "No such container: web2") || !strings.Contains(r.Stderr, "No such container: nosuch") {
		t.Errorf("berth rm of missing containers: got %s", r)
	}
	for _, args := range [][]string{{"stop", "nosuch"}, {"logs", "nosuch"}, {"inspect", "--type", "container", "nosuch"}, {"kill", "nosuch"}} {
		if r := d.Berth(args...); r.Code != 1 || !strings.Contains(r.Stderr, "No such container") {
			t.Errorf("berth %s: got %s", strings.Join(args, " "), r)
		}
	}
}

// TestStdin: attach and start -a -i carry piped input to the container
// and exit with its status.
func TestStdin(t *testing.T) {
	d := containerDaemon(t)
	d.OK("run", "-d", "-i", "--name", "reader", "bb", "sh", "-c", "read x; echo got $x; exit 4")
	if r := d.BerthIn(strings.NewReader("via attach\n"), "attach", "reader"); r.Code != 4 || r.Stdout != "got via attach\n" {
		t.Errorf("berth attach with piped stdin: got %s, want exit 4", r)
	}
	if r := d.Berth("attach", "reader"); r.Code != 1 || !strings.Contains(r.Stderr, "You cannot attach to a stopped container") {
		t.Errorf("berth attach to a stopped container: got %s", r)
	}
	d.OK("create", "--name", "starter", "-i", "bb", "sh", "-c", "read x; echo got $x")
	if r := d.BerthIn(strings.NewReader("via start\n"), "start", "-a", "-i", "starter"); r.Code != 0 || r.Stdout != "got via start\n" {
		t.Errorf("berth start -a -i: got %s", r)
	}
}

// TestRunPullsMissing: run pulls an image it does not have, with the
// pull on standard error.
func TestRunPullsMissing(t *testing.T) {
	d := containerDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{})
	img := testimage.Build(t, testimage.Spec{Cmd: []string{"echo", "from", "registry"}, Env: []string{"PATH=/bin"},
		Layers: []testimage.Layer{{Compression: testimage.Gzip, Files: busyboxFiles(t)}}})
	ref := reg.Ref("bb", ":v1")
	testimage.Push(t, img.Manifest, img.Blobs, ref, reg.Creds())
	r := d.Berth("run", "--rm", ref)
	if r.Code != 0 || r.Stdout != "from registry\n" || !strings.HasPrefix(r.Stderr, "Unable to find image '"+ref+"' locally\n") ||
		!strings.Contains(r.Stderr, "Status: Downloaded newer image for "+ref) {
		t.Errorf("berth run of a missing image: got %s", r)
	}
	if r := d.Berth("run", "--rm", ref); r.Code != 0 || r.Stderr != "" {
		t.Errorf("second berth run: got %s, want no pull", r)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Errorf("timed out waiting for %s", what)
}
