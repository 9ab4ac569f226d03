package runtime_test

// Safety: the runtime binary cannot be overwritten through /proc/PID/exe
// (CVE-2019-5736), no fd of the runtime reaches the container and a cwd
// through /proc/self/fd cannot reach the host (CVE-2024-21626), symlinks
// in a hostile rootfs cannot send mounts or device nodes outside it, and
// the container starts with no host mount and no stray fd.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testbundle"
)

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// tryWrite reopens an fd through /proc/self/fd for appending and writes;
// it returns nil only if the write went through.
func tryWrite(fd int) error {
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", fd), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	_, err = w.Write([]byte("\n# overwritten by a container\n"))
	return err
}

// TestRuntimeBinaryHostSide: while a created container's init runs the
// runtime, take a handle on /proc/PID/exe, let init die, and try to write
// the binary through the handle, as the CVE-2019-5736 exploit does.
func TestRuntimeBinaryHostSide(t *testing.T) {
	r := newRT(t)
	before := sha256File(t, binary)
	c := r.createLive(testbundle.New(t, "/observer", "sleep"))
	exe := fmt.Sprintf("/proc/%d/exe", c.pid)
	fd, err := unix.Open(exe, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s: %v", exe, err)
	}
	defer unix.Close(fd)
	// It is the runtime: the same bytes as the binary.
	ro, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, ro)
	ro.Close()
	if got := hex.EncodeToString(h.Sum(nil)); got != before {
		t.Fatalf("init's exe is not the runtime binary (sha256 %s, binary %s)", got, before)
	}
	// While init lives, and after it is gone.
	if err := tryWrite(fd); err == nil {
		t.Errorf("wrote the runtime binary through init's exe while init runs")
	}
	c.deleteAndCheck()
	if err := tryWrite(fd); err == nil {
		t.Errorf("wrote the runtime binary through init's exe after init died")
	} else {
		t.Logf("write refused: %v", err)
	}
	if after := sha256File(t, binary); after != before {
		t.Fatalf("runtime binary %s changed: sha256 %s, was %s", binary, after, before)
	}
}

// TestRuntimeBinaryInside: the container makes the runtime run inside it
// (a script whose interpreter is #!/proc/self/exe, exec'd by the runtime
// itself, so the kernel runs the runtime's own binary), holds that
// process's /proc/PID/exe open, waits for it to exit, and writes through
// it. The process runs the runtime as a container init waiting on a socket
// the test holds, so the test decides when it exits.
func TestRuntimeBinaryInside(t *testing.T) {
	r := newRT(t)
	before := sha256File(t, binary)
	b := testbundle.New(t, "/observer", "sleep")
	if err := os.WriteFile(filepath.Join(b.Rootfs, "evil.sh"), []byte("#!/proc/self/exe init\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := r.startLive(b)

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "theirs")
	defer ours.Close()
	pidFile := filepath.Join(t.TempDir(), "victim.pid")
	res, _, _ := r.invoke(rtCall{
		args:  []string{"exec", "--detach", "--pid-file", pidFile, "--preserve-fds", "1", "--env", "_BERTH_INIT=1", "--env", "_BERTH_SYNC=3", c.id, "/evil.sh"},
		extra: []*os.File{theirs},
	})
	theirs.Close()
	if res.code != 0 {
		t.Fatalf("exec /evil.sh: exit %d, stderr %s", res.code, res.stderr)
	}
	data, _ := os.ReadFile(pidFile)
	victim, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	// The victim really is the runtime, running inside the container.
	var vexe string
	pollUntil(t, "the victim to run the runtime", func() bool {
		f, err := os.Open(fmt.Sprintf("/proc/%d/exe", victim))
		if err != nil {
			return false
		}
		defer f.Close()
		h := sha256.New()
		io.Copy(h, f)
		vexe = hex.EncodeToString(h.Sum(nil))
		return vexe == before
	})
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", victim))
	m := regexp.MustCompile(`NSpid:\s+\d+\s+(\d+)`).FindSubmatch(status)
	if m == nil {
		t.Fatalf("victim %d is not in the container's pid namespace: %s", victim, status)
	}
	inner := string(m[1])

	// The attacker: holds the exe, waits for the victim to go, writes.
	// It runs detached, so that no runtime process is left executing the
	// binary when it writes: the refusal must not rest on ETXTBSY.
	script := `exec >/tmp/attack.log 2>&1
exec 3</proc/` + inner + `/exe || { echo open-failed; exit 1; }
echo opened
while readlink /proc/` + inner + `/exe >/dev/null 2>&1; do sleep 0.01; done
echo victim-gone
if echo pwned >> /proc/self/fd/3; then echo WROTE; else echo refused; fi
if (exec 4<>/proc/self/fd/3); then echo WROTE-RDWR; else echo refused-rdwr; fi
echo finished`
	r.ok("exec", "--detach", c.id, "sh", "-c", script)
	logFile := filepath.Join(b.Rootfs, "tmp", "attack.log")
	read := func() string { d, _ := os.ReadFile(logFile); return string(d) }
	pollUntil(t, "the attacker to open the victim's exe", func() bool {
		return strings.Contains(read(), "opened") || strings.Contains(read(), "open-failed")
	})
	if strings.Contains(read(), "open-failed") {
		t.Fatalf("attacker could not open the victim's exe, so the write path is not exercised: %s", read())
	}
	ours.Close() // the victim reads EOF and exits
	pollUntil(t, "the attacker to finish", func() bool { return strings.Contains(read(), "finished") })
	got := read()
	t.Logf("attacker: %q", got)
	if !strings.Contains(got, "victim-gone") || !strings.Contains(got, "refused") || strings.Contains(got, "WROTE") {
		t.Errorf("attacker output %q: want the victim gone and every write refused", got)
	}
	if after := sha256File(t, binary); after != before {
		t.Fatalf("runtime binary %s changed: sha256 %s, was %s", binary, after, before)
	}
	c.deleteAndCheck("--force")
}

// TestNoLeakedFDs: the container's process has only its stdio (and the
// preserved fds), seen from inside and from the host; while created, init
// holds nothing of the host but its stdio and the exec fifo.
func TestNoLeakedFDs(t *testing.T) {
	r := newRT(t)
	extra1, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer extra1.Close()
	extra2, err := os.CreateTemp(t.TempDir(), "preserved")
	if err != nil {
		t.Fatal(err)
	}
	defer extra2.Close()
	for _, tc := range []struct {
		name  string
		extra []*os.File
		flags []string
		n     int // fds the process must have: 0 … n-1
	}{
		{"stdio only", nil, nil, 3},
		{"stdio only, extra fds not preserved", []*os.File{extra1, extra2}, nil, 3},
		{"preserve-fds 2", []*os.File{extra1, extra2}, []string{"--preserve-fds", "2"}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.n
			b := testbundle.New(t, "/observer", "info")
			b.Spec.Process.Env = append(b.Spec.Process.Env, goQuietEnv)
			b.Save(t)
			args := append(append([]string{"run", "--bundle", b.Dir}, tc.flags...), r.id())
			res, _, _ := r.invoke(rtCall{args: args, extra: tc.extra})
			if res.code != 0 {
				t.Fatalf("run: exit %d, stderr %s", res.code, res.stderr)
			}
			o := decodeObserved(t, res.stdout)
			checkOnlyFDs(t, o.FDs, n)
			if n == 5 && (o.FDs["3"] != "/dev/null" || !strings.Contains(o.FDs["4"], "preserved")) {
				t.Errorf("preserved fds: got %v, want 3 → /dev/null and 4 → the temp file", o.FDs)
			}
		})
	}

	// From the host: a non-Go process, so every fd is one it was given.
	b := testbundle.New(t, "sleep", "1000")
	c := r.createLive(b)
	allowed := []string{c.out, c.errf, "/dev/null", filepath.Join(r.root, c.id, "exec.fifo")}
	for fd, target := range fdsOf(t, c.pid) {
		if fd < 3 {
			continue
		}
		if strings.HasPrefix(target, "/") && !slices.Contains(allowed, target) {
			t.Errorf("created init holds fd %d → %s, a host path", fd, target)
		}
	}
	r.ok("start", c.id)
	pollUntil(t, "init to exec sleep", func() bool {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c.pid))
		return strings.HasPrefix(string(cmd), "sleep\x00")
	})
	got := fdsOf(t, c.pid)
	want := map[int]string{0: "/dev/null", 1: c.out, 2: c.errf}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("fds of the container's process: got %v, want %v", got, want)
	}
	c.deleteAndCheck("--force")
}

func fdsOf(t *testing.T, pid int) map[int]string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, e := range ents {
		n, _ := strconv.Atoi(e.Name())
		out[n], _ = os.Readlink(filepath.Join(dir, e.Name()))
	}
	return out
}

func unmarshalJSON(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func decodeObserved(t *testing.T, out string) observed {
	t.Helper()
	var o observed
	if err := unmarshalJSON(out, &o); err != nil {
		t.Fatalf("decode observer output %q: %v", out, err)
	}
	return o
}

// TestCwdThroughProcFD: a cwd of /proc/self/fd/N (how CVE-2024-21626
// reached a leaked host directory) either is refused or stays inside the
// container, for create and for exec.
func TestCwdThroughProcFD(t *testing.T) {
	r := newRT(t)
	marker := "host-" + strconv.Itoa(os.Getpid())
	hostDir := t.TempDir()
	os.WriteFile(filepath.Join(hostDir, marker), nil, 0o644)
	c := r.startLive(testbundle.New(t, "/observer", "sleep"))
	fds := []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 100, 101, 102}
	for _, n := range fds {
		cwd := fmt.Sprintf("/proc/self/fd/%d", n)
		check := func(t *testing.T, res result) {
			t.Helper()
			if res.code != 0 {
				t.Logf("refused: %s", strings.TrimSpace(res.stderr))
				if !strings.Contains(res.stderr, "cwd") {
					t.Errorf("refused with %q: want the error to name the cwd", res.stderr)
				}
				return
			}
			// Allowed: then it must be a directory of the container.
			var o observed
			if err := unmarshalJSON(res.stdout, &o); err != nil {
				t.Fatalf("decode %q: %v", res.stdout, err)
			}
			t.Logf("allowed: cwd %q", o.Cwd)
			if o.CwdErr != "" || !strings.HasPrefix(o.Cwd, "/") || strings.Contains(o.Cwd, "unreachable") {
				t.Errorf("cwd %s: the process is in %q (%s), outside its root", cwd, o.Cwd, o.CwdErr)
			}
		}
		t.Run(fmt.Sprintf("create fd %d", n), func(t *testing.T) {
			b := testbundle.New(t, "/observer", "info")
			b.Spec.Process.Cwd = cwd
			b.Save(t)
			// Extra fds open in the runtime, as a careless caller leaves them.
			hd, err := os.Open(hostDir)
			if err != nil {
				t.Fatal(err)
			}
			defer hd.Close()
			res, _, _ := r.invoke(rtCall{args: []string{"run", "--bundle", b.Dir, r.id()}, extra: []*os.File{hd, hd, hd}})
			check(t, res)
		})
		t.Run(fmt.Sprintf("exec fd %d", n), func(t *testing.T) {
			hd, err := os.Open(hostDir)
			if err != nil {
				t.Fatal(err)
			}
			defer hd.Close()
			res, _, _ := r.invoke(rtCall{args: []string{"exec", "--cwd", cwd, c.id, "/observer", "info"}, extra: []*os.File{hd, hd, hd}})
			check(t, res)
		})
	}
	// And a process that tries to list its cwd's parent chain sees no
	// host file.
	if out := r.run("exec", c.id, "sh", "-c", "ls -a / /proc/self/cwd/.. 2>&1"); strings.Contains(out.stdout, marker) {
		t.Errorf("the container sees the host dir: %s", out.stdout)
	}
	c.deleteAndCheck("--force")
}

// TestHostileRootfs: symlinks in the image at mount destinations and
// device paths resolve inside the rootfs; the host directories they name
// are neither written nor mounted over; a /proc symlink is refused.
func TestHostileRootfs(t *testing.T) {
	escapeName := fmt.Sprintf("berth-escape-%d", os.Getpid())
	type setup struct {
		link, target string // symlink in the rootfs, and where it points
	}
	for _, tc := range []struct {
		name   string
		links  func(host string) []setup
		edit   func(b *testbundle.Bundle, host string)
		script string // run in the container; must print "ok"
		refuse string // if set, create must fail with this
	}{
		{"tmpfs on absolute symlink",
			func(host string) []setup { return []setup{{"mnt", host}} },
			func(b *testbundle.Bundle, host string) {
				b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs"})
			}, `grep -q " $(readlink -f /mnt) [^ ]*.* - tmpfs " /proc/self/mountinfo && touch /mnt/from-container && echo ok`, ""},
		{"tmpfs on dotdot symlink",
			func(host string) []setup {
				return []setup{{"mnt", strings.Repeat("../", 12) + strings.TrimPrefix(host, "/")}}
			},
			func(b *testbundle.Bundle, host string) {
				b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt/sub", Type: "tmpfs", Source: "tmpfs"})
			}, "touch /mnt/sub/from-container && echo ok", ""},
		{"tmpfs under a symlink to the root",
			func(host string) []setup { return []setup{{"mnt", "../../../../../../../.."}} },
			func(b *testbundle.Bundle, host string) {
				b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt/" + escapeName, Type: "tmpfs", Source: "tmpfs"})
			}, `grep -q " /` + escapeName + ` [^ ]*.* - tmpfs " /proc/self/mountinfo && echo ok`, ""},
		{"file bind through symlink",
			func(host string) []setup { return []setup{{"etc2", host}} },
			func(b *testbundle.Bundle, host string) {
				src := filepath.Join(b.Dir, "bindsrc")
				os.WriteFile(src, []byte("bound\n"), 0o644)
				b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/etc2/new/file", Type: "bind", Source: src, Options: []string{"bind"}})
			}, "cat /etc2/new/file && echo ok", ""},
		{"dev symlink, dev not mounted",
			func(host string) []setup { return []setup{{"dev", host}} },
			func(b *testbundle.Bundle, host string) {
				var ms []specs.Mount
				for _, m := range b.Spec.Mounts {
					if !strings.HasPrefix(m.Destination, "/dev") {
						ms = append(ms, m)
					}
				}
				b.Spec.Mounts = ms
			}, "test -c /dev/null && echo ok", ""},
		{"dev symlink under tmpfs dev",
			func(host string) []setup { return []setup{{"dev", host}} },
			func(b *testbundle.Bundle, host string) {}, "test -c /dev/null && test -c /dev/zero && echo ok", ""},
		{"device path through symlink",
			func(host string) []setup { return []setup{{"devlink", host}} },
			func(b *testbundle.Bundle, host string) {
				b.Spec.Linux.Devices = append(b.Spec.Linux.Devices, specs.LinuxDevice{Path: "/devlink/evil/null", Type: "c", Major: 1, Minor: 3})
			}, "test -c /devlink/evil/null && echo ok", ""},
		{"cwd through symlink",
			func(host string) []setup { return []setup{{"work", host}} },
			func(b *testbundle.Bundle, host string) { b.Spec.Process.Cwd = "/work/made/by/runtime" },
			"pwd && echo ok", ""},
		{"proc is a symlink to a host dir",
			func(host string) []setup { return []setup{{"proc", host}} },
			func(b *testbundle.Bundle, host string) {}, "", "symlink"},
		{"proc is a symlink inside the rootfs",
			func(host string) []setup { return []setup{{"proc", "tmp"}} },
			func(b *testbundle.Bundle, host string) {}, "", "symlink"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			host := t.TempDir()
			if err := os.WriteFile(filepath.Join(host, "marker"), []byte("host"), 0o644); err != nil {
				t.Fatal(err)
			}
			b := testbundle.New(t, "sh", "-c", tc.script)
			linkApplets(t, b, "touch")
			for _, l := range tc.links(host) {
				p := filepath.Join(b.Rootfs, l.link)
				os.RemoveAll(p)
				if err := os.Symlink(l.target, p); err != nil {
					t.Fatal(err)
				}
			}
			tc.edit(b, host)
			b.Save(t)
			id := r.id()
			res, out, errf := r.invoke(rtCall{args: []string{"run", "--bundle", b.Dir, id}})
			if tc.refuse != "" {
				refusal(t, res, "", tc.refuse)
				requireNothingOf(t, r, id, b.Dir, out, errf)
			} else if res.code != 0 || !strings.HasSuffix(res.stdout, "ok\n") {
				t.Errorf("run: exit %d, stdout %q, stderr %q; want ok", res.code, res.stdout, res.stderr)
			} else if fi, err := os.Stat(filepath.Join(b.Rootfs, host)); strings.HasSuffix(tc.links(host)[0].target, strings.TrimPrefix(host, "/")) && (err != nil || !fi.IsDir()) {
				// What the link names was made inside the rootfs.
				t.Errorf("%s not created inside the rootfs: %v", host, err)
			}
			// The host directory: untouched, and nothing mounted on it.
			ents, _ := os.ReadDir(host)
			if len(ents) != 1 || ents[0].Name() != "marker" {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("host dir %s now holds %v, want only marker", host, names)
			}
			if m := hostMountsNaming(t, host); len(m) > 0 {
				t.Errorf("host dir mounted over: %q", m)
			}
			if _, err := os.Lstat("/" + escapeName); err == nil {
				os.Remove("/" + escapeName)
				t.Errorf("/%s was created on the host", escapeName)
			}
		})
	}
}

// TestNoHostMounts: the container's mount table holds its rootfs and the
// mounts its configuration asks for, and nothing of the host.
func TestNoHostMounts(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "/observer", "info")
	o := r.observe(b)
	allowed := map[string]bool{"/": true}
	for _, m := range b.Spec.Mounts {
		allowed[m.Destination] = true
	}
	for _, p := range append(b.Spec.Linux.MaskedPaths, b.Spec.Linux.ReadonlyPaths...) {
		allowed[p] = true
	}
	var root string
	for _, line := range strings.Split(o.Mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := f[4]
		if mp == "/" {
			root = f[3]
		}
		if allowed[mp] || strings.HasPrefix(mp, "/sys/fs/cgroup/") {
			continue
		}
		t.Errorf("mount %s is visible in the container: %s", mp, line)
	}
	// The root mount is the bundle's rootfs, not the host's /.
	if root != b.Rootfs && !strings.HasSuffix(root, strings.TrimPrefix(b.Rootfs, "/")) {
		t.Errorf("root mount of the container is %q, want the rootfs %s", root, b.Rootfs)
	}
	for _, host := range []string{"/work", "/home", "/boot", "/run", "/var/lib", "/tmp"} {
		for _, line := range strings.Split(o.Mountinfo, "\n") {
			if f := strings.Fields(line); len(f) > 4 && f[4] == host {
				t.Errorf("host mount point %s visible: %s", host, line)
			}
		}
	}
}

// TestCreatedInitHoldsNoHostFD: fds the caller of create leaks (not
// close-on-exec, not preserved) must not stay open in a created
// container's init, where a process of the container could reach them
// through /proc/1/fd (CVE-2024-21626 class).
func TestCreatedInitHoldsNoHostFD(t *testing.T) {
	r := newRT(t)
	hostDir := t.TempDir()
	marker := "host-marker-" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(filepath.Join(hostDir, marker), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	hd, err := os.Open(hostDir)
	if err != nil {
		t.Fatal(err)
	}
	defer hd.Close()
	b := testbundle.New(t, "/observer", "sleep")
	b.Save(t)
	id := r.id()
	res, _, _ := r.invoke(rtCall{args: []string{"create", "--bundle", b.Dir, id}, extra: []*os.File{hd, hd, hd, hd}})
	if res.code != 0 {
		t.Fatalf("create: exit %d, stderr %s", res.code, res.stderr)
	}
	pid := int(r.state(id)["pid"].(float64))
	for fd, target := range fdsOf(t, pid) {
		if target == hostDir {
			t.Errorf("created init %d holds fd %d on the host dir %s", pid, fd, hostDir)
		}
	}
	// Even so, a process of the container cannot read init's fds (init
	// has capabilities the process lacks, so ptrace access is denied).
	out := r.run("exec", id, "sh", "-c", "for f in /proc/1/fd/* /proc/1/cwd /proc/1/root; do ls $f/; done 2>&1")
	if !strings.Contains(out.stdout, "Permission denied") {
		t.Errorf("a process of the container could open init's /proc entries: %q", out.stdout)
	}
	if strings.Contains(out.stdout, marker) {
		t.Errorf("a process of the container listed the host dir through init's fds: %q", out.stdout)
	}
	r.ok("delete", "--force", id)
}
