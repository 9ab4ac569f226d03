package runtime_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testbundle"
)

func TestRunExitCode(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "sh", "-c", "echo hello; exit 7")
	res := r.run("run", "--bundle", b.Dir, r.id())
	if res.code != 7 {
		t.Fatalf("got exit %d, want 7; stderr: %s", res.code, res.stderr)
	}
	if res.stdout != "hello\n" {
		t.Fatalf("got stdout %q, want %q", res.stdout, "hello\n")
	}
	if ents, _ := os.ReadDir(r.root); len(ents) != 0 {
		t.Fatalf("state left after run: %v", ents)
	}
}

func TestLifecycle(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "sleep", "1000")
	id := r.id()
	pidFile := filepath.Join(t.TempDir(), "pid")
	r.ok("create", "--bundle", b.Dir, "--pid-file", pidFile, id)
	st := r.state(id)
	if st["status"] != "created" {
		t.Fatalf("after create: got status %v, want created", st["status"])
	}
	pid, _ := os.ReadFile(pidFile)
	if want := st["pid"].(float64); string(pid) == "" || strings.TrimSpace(string(pid)) != strconv.Itoa(int(want)) {
		t.Fatalf("pid file %q does not match state pid %v", pid, want)
	}
	if res := r.run("delete", id); res.code != 0 {
		t.Fatalf("delete of a created container without --force: exit %d: %s", res.code, res.stderr)
	}
	r.ok("create", "--bundle", b.Dir, id)
	r.ok("start", id)
	if st := r.state(id); st["status"] != "running" {
		t.Fatalf("after start: got status %v, want running", st["status"])
	}
	if res := r.run("start", id); res.code == 0 {
		t.Fatal("second start succeeded, want an error")
	}
	if res := r.run("delete", id); res.code == 0 || !strings.Contains(res.stderr, "not stopped") {
		t.Fatalf("delete of a running container: exit %d, stderr %q; want a refusal", res.code, res.stderr)
	}
	r.ok("pause", id)
	if st := r.state(id); st["status"] != "paused" {
		t.Fatalf("after pause: got %v, want paused", st["status"])
	}
	r.ok("resume", id)
	r.ok("kill", id, "KILL")
	waitStatus(t, r, id, "stopped")
	if res := r.run("kill", id, "TERM"); res.code == 0 {
		t.Fatal("kill after exit succeeded, want an error")
	}
	r.ok("delete", id)
	if res := r.run("state", id); res.code == 0 || !strings.Contains(res.stderr, "does not exist") {
		t.Fatalf("state after delete: exit %d, stderr %q", res.code, res.stderr)
	}
}

func waitStatus(t *testing.T, r *rt, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := r.state(id)
		if st["status"] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: status %v, want %s", id, st["status"], want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKillCreated sends SIGTERM to a container that was created and never
// started: its init, waiting for `start`, ends (as runc's does), whether
// the C init or the Go init holds it.
func TestKillCreated(t *testing.T) {
	for _, mode := range []string{"", "go"} {
		t.Run("init="+mode, func(t *testing.T) {
			if mode != "" {
				t.Setenv("BERTH_INIT", mode)
			}
			r := newRT(t)
			b := testbundle.New(t, "sleep", "1000")
			id := r.id()
			r.ok("create", "--bundle", b.Dir, id)
			r.ok("kill", id, "TERM")
			waitStatus(t, r, id, "stopped")
			r.ok("delete", id)
		})
	}
}
