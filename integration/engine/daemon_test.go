package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testregistry"
	"github.com/berth-dev/berth/internal/testutil"
)

// timestamp formats t as the docker CLI passes explicit times on.
func timestamp(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// TestEvents: the events of pull, tag, untag and delete, replayed with
// since/until and filters, and streamed live.
func TestEvents(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{})
	img := pushed(t, reg, "ev", "ev", "v1")
	ref := reg.Ref("ev", ":v1")
	start := time.Now()
	d.OK("pull", ref)
	d.OK("tag", ref, "evtag:one")
	d.OK("rmi", "evtag:one")
	d.OK("rmi", ref)
	end := time.Now()
	id := img.Config.Digest.String()

	got := lines(d.OK("events", "--since", timestamp(start), "--until", timestamp(end), "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}"))
	want := []string{"image pull " + ref, "image tag " + id, "image untag " + id, "image untag " + id, "image untag " + id, "image delete " + id}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("docker events: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for filter, n := range map[string]int{"event=tag": 1, "event=untag": 3, "type=container": 0, "image=" + reg.Host + "/ev": 1, "image=" + id: 5} {
		got := lines(d.OK("events", "--since", timestamp(start), "--until", timestamp(end), "--filter", filter, "--format", "{{.Action}}"))
		if len(got) != n {
			t.Errorf("docker events --filter %s: got %q, want %d events", filter, got, n)
		}
	}
	if stderr := d.Fail("events", "--filter", "colour=blue", "--until", timestamp(end)); !strings.Contains(stderr, "invalid filter") {
		t.Errorf("docker events --filter colour=blue: got %q", stderr)
	}

	// Live: an events stream sees a tag made after it started.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "events", "--filter", "type=image", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + d.dir, "DOCKER_HOST=unix://" + d.Sock, "DOCKER_CONFIG=" + d.config}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	seen := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			seen <- sc.Text()
		}
		close(seen)
	}()
	d.waitEventsListener(t)
	d.OK("pull", ref)
	select {
	case line := <-seen:
		if line != "pull "+reg.Host+"/ev" {
			t.Errorf("live docker events: got %q, want the pull", line)
		}
	case <-ctx.Done():
		t.Fatal("live docker events saw nothing")
	}
}

// TestSystemDF: docker system df accounts for the image store.
func TestSystemDF(t *testing.T) {
	d := newDaemon(t)
	if got := lines(d.OK("system", "df", "--format", "{{.Type}} {{.TotalCount}}")); len(got) != 4 || got[0] != "Images 0" {
		t.Errorf("docker system df on an empty store: got %q", got)
	}
	reg := testregistry.Start(t, testregistry.Options{})
	pushed(t, reg, "df", "df", "v1")
	d.OK("pull", reg.Ref("df", ":v1"))
	got := lines(d.OK("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}"))
	if len(got) != 4 || !strings.HasPrefix(got[0], "Images 1 0 ") || strings.Contains(got[0], " 0B") {
		t.Errorf("docker system df: got %q, want one image with its size, all reclaimable", got)
	}
	if got := d.OK("system", "df", "-v"); !strings.Contains(got, reg.Host+"/df") {
		t.Errorf("docker system df -v lacks the image:\n%s", got)
	}
}

// TestRestart: SIGTERM stops berthd cleanly (socket and PID file gone),
// a restart over the same data root finds the images, and a second
// berthd is refused over the same data root or socket.
func TestRestart(t *testing.T) {
	d := newDaemon(t)
	reg := testregistry.Start(t, testregistry.Options{})
	img := pushed(t, reg, "keep", "keep", "v1")
	d.OK("pull", reg.Ref("keep", ":v1"))

	// A second daemon over the same data root, on another socket.
	other := filepath.Join(d.dir, "other.sock")
	out, err := exec.Command(berthd, "--data-root", d.Data, "--exec-root", filepath.Join(d.dir, "exec2"), "-H", "unix://"+other, "--config-file", "/dev/null", "--bridge=none").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another berthd") {
		t.Errorf("second berthd over the same data root: %v\n%s", err, out)
	}
	// And one on the same socket, over another data root.
	out, err = exec.Command(berthd, "--data-root", filepath.Join(d.dir, "data2"), "--exec-root", filepath.Join(d.dir, "exec3"), "-H", "unix://"+d.Sock, "--config-file", "/dev/null", "--bridge=none").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another daemon is serving") {
		t.Errorf("second berthd on the same socket: %v\n%s", err, out)
	}

	fi, err := os.Stat(d.Sock)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o660 {
		t.Errorf("socket mode: got %o, want 660", perm)
	}
	// An events stream in progress does not hold the shutdown up.
	events := exec.Command("docker", "events")
	events.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + d.dir, "DOCKER_HOST=unix://" + d.Sock, "DOCKER_CONFIG=" + d.config}
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	defer events.Process.Kill()
	d.waitEventsListener(t)
	st := d.Stop()
	if st == nil || !st.Success() {
		t.Errorf("berthd after SIGTERM: got %v, want exit 0", st)
	}
	for _, p := range []string{d.Sock, filepath.Join(d.Exec, "berthd.pid")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s after shutdown: %v, want it gone", p, err)
		}
	}
	if log := d.Log(); strings.Contains(log, "cancelled at shutdown") || strings.Contains(log, "still running") {
		t.Errorf("shutdown had to cancel requests:\n%s", log)
	}
	waited := make(chan error, 1)
	go func() { waited <- events.Wait() }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		t.Error("docker events still running after berthd stopped")
	}
	if !strings.Contains(d.Log(), "berthd stopped") {
		t.Errorf("berthd log lacks a clean stop:\n%s", d.Log())
	}

	// A stale socket (a file nobody serves) is replaced at start.
	if err := syscall.Mknod(d.Sock, syscall.S_IFSOCK|0o600, 0); err != nil {
		t.Fatal(err)
	}
	d.Start()
	if got := strings.TrimSpace(d.OK("images", "-q", "--no-trunc")); got != img.Config.Digest.String() {
		t.Errorf("images after restart: got %q, want %s", got, img.Config.Digest)
	}
}

// TestRefusals: configurations berthd must not start with.
func TestRefusals(t *testing.T) {
	if berthd == "" {
		testutil.Skip(t, "no berthd binary")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "daemon.json")
	os.WriteFile(cfg, []byte(`{"data-root": "/tmp/x", "colour": "blue"}`), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-H", "tcp://127.0.0.1:2375"}, "without --tlsverify"},
		{[]string{"-H", "tcp://127.0.0.1:2376", "--tlsverify"}, "needs --tls"},
		{[]string{"--config-file", cfg}, "don't match any configuration option: colour"},
		{[]string{"--config-file", filepath.Join(dir, "absent.json")}, "no such file"},
		{[]string{"--log-level", "chatty"}, "log-level"},
		{[]string{"--storage-driver", "zfs"}, "storage-driver"},
		{[]string{"--default-ulimit", "nofile=10:5"}, "above the hard limit"},
	}
	for _, c := range cases {
		args := append([]string{"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec")}, c.args...)
		if !contains(c.args, "--config-file") {
			args = append(args, "--config-file", "/dev/null")
		}
		out, err := exec.Command(berthd, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("berthd %s: got %v %q, want a refusal with %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// waitEventsListener waits until berthd counts one events stream, the
// docker events the test started: it is listening then.
func (d *daemon) waitEventsListener(t *testing.T) {
	t.Helper()
	waitFor(t, "berthd to count the events listener", 10*time.Second, func() bool {
		return strings.TrimSpace(d.OK("info", "--format", "{{.NEventsListener}}")) == "1"
	})
}
