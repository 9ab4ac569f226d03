package shim

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		kill   bool
		start  bool
		code   int
		signal syscall.Signal
	}{
		{"zero", []string{"true"}, false, true, 0, 0},
		{"three", []string{"sh", "-c", "exit 3"}, false, true, 3, 0},
		{"killed", []string{"sleep", "1000"}, true, true, 137, syscall.SIGKILL},
		{"killed before start", []string{"true"}, true, false, 137, syscall.SIGKILL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.args...)
			ctx := testCtx(t)
			s := e.start(ctx)
			if tc.start {
				if err := s.Start(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if tc.kill {
				if err := s.Kill(ctx, syscall.SIGKILL, false); err != nil {
					t.Fatal(err)
				}
			}
			st := e.wait(s)
			if st.Code != tc.code || st.Signal != tc.signal || st.ID != e.opts.ID || st.OOMKilled {
				t.Errorf("status: got %+v, want code %d signal %d id %s, no OOM", st, tc.code, tc.signal, e.opts.ID)
			}
			if time.Since(st.ExitedAt) > time.Minute || st.Pid != s.InitPid() {
				t.Errorf("status: got time %v pid %d, want recent and pid %d", st.ExitedAt, st.Pid, s.InitPid())
			}
			// A later Wait, and Open by a new berthd, give the same.
			for _, s := range []*Shim{s, mustOpen(t, e.opts.StateDir)} {
				again, err := s.Wait(ctx)
				if err != nil || again != st {
					t.Errorf("Wait again: got %+v, %v, want %+v", again, err, st)
				}
			}
		})
	}
}

func mustOpen(t *testing.T, dir string) *Shim {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func TestOOMKilled(t *testing.T) {
	e := newEnv(t, "sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived")
	limit, swap := int64(16<<20), int64(16<<20)
	if e.bundle.Spec.Linux.Resources == nil {
		e.bundle.Spec.Linux.Resources = &specs.LinuxResources{}
	}
	e.bundle.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &swap}
	st := e.run()
	if !st.OOMKilled || st.Code != 137 {
		t.Fatalf("status: got %+v, want OOM-killed with code 137", st)
	}
}

// The shim outlives the process that started it (berthd killed with
// SIGKILL), and the next berthd finds the container with Open and Wait.
func TestSurvivesStarter(t *testing.T) {
	e := newEnv(t, "sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo after; exit 7")
	e.bundle.Save(t)
	opts, _ := json.Marshal(e.opts)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), starterEnv+"="+string(opts))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 8)
	if n, _ := out.Read(buf); string(buf[:n]) != "started\n" {
		cmd.Wait()
		t.Fatalf("starter said %q, want started; stderr: %s", buf[:n], stderr.String())
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	s := mustOpen(t, e.opts.StateDir)
	if ppid := parentOf(t, s.Pid()); ppid == cmd.Process.Pid {
		t.Fatalf("shim %d is still the starter's child", s.Pid())
	}
	if err := os.WriteFile(e.bundle.Rootfs+"/tmp/go", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := e.wait(s)
	if st.Code != 7 {
		t.Errorf("exit code: got %d, want 7", st.Code)
	}
	if recs := readLog(t, e.opts.LogPath); len(recs) != 1 || recs[0].Log != "after\n" {
		t.Errorf("log: got %+v, want one record \"after\\n\"", recs)
	}
}

func parentOf(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatalf("shim %d: %v", pid, err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// Killing the shim itself loses the status: Wait says so.
func TestShimKilled(t *testing.T) {
	e := newEnv(t, "sleep", "1000")
	ctx := testCtx(t)
	s := e.start(ctx)
	if err := syscall.Kill(s.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, err := s.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "without recording an exit status") {
		t.Fatalf("Wait: got %v, want an error about the lost status", err)
	}
}
