package engine_test

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// execState is the part of GET /exec/{id}/json these tests read.
type execState struct {
	Running       bool
	Pid           int
	ExitCode      *int
	ProcessConfig struct{ Arguments []string }
}

func (d *ctrDaemon) execState(id string) execState {
	d.t.Helper()
	code, _, body := d.API("GET", "/exec/"+id+"/json", nil)
	var st execState
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
		d.t.Fatalf("exec inspect %s: got %d %q", id, code, body)
	}
	return st
}

// TestExecSurvivesDaemon kills berthd with SIGKILL while execs run under
// the container's shim: a detached exec that ends while berthd is down
// shows its exit code after the restart, one still running is tracked
// (running, pid) until it exits, and an interactive exec whose client
// went with berthd runs on and is recorded too.
func TestExecSurvivesDaemon(t *testing.T) {
	d := newCtrDaemon(t)
	d.OK("run", "-d", "--name", "box", d.Image, "sleep", "1000")
	d.OK("exec", "-d", "box", "sh", "-c", "sleep 1; exit 5")
	d.OK("exec", "-d", "box", "sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 6")
	if r := d.Docker("exec", "box", "sh", "-c", "exit 3"); r.Code != 3 {
		t.Fatalf("docker exec exit 3: got %d", r.Code)
	}
	// An interactive exec, its client cut off when berthd dies.
	s := d.dockerOnTerminal("exec", "-it", "box", "sh")
	s.expect(`# `)
	ids := strings.Fields(d.inspect("box", "{{range .ExecIDs}}{{.}} {{end}}"))
	if len(ids) != 4 {
		t.Fatalf("ExecIDs: got %d, want 4", len(ids))
	}
	before := map[string]execState{}
	for _, id := range ids {
		before[id] = d.execState(id)
	}

	d.Kill()
	s.wait()
	time.Sleep(1500 * time.Millisecond) // the first exec ends meanwhile
	d.Start()

	got := map[int]int{} // exit code → count, -1 for running
	for _, id := range ids {
		st := d.execState(id)
		if st.Pid != before[id].Pid {
			t.Errorf("exec %s after restore: got pid %d, want %d", id, st.Pid, before[id].Pid)
		}
		switch {
		case st.Running && st.ExitCode == nil:
			got[-1]++
		case !st.Running && st.ExitCode != nil:
			got[*st.ExitCode]++
		default:
			t.Errorf("exec %s after restore: running %v with exit code %v", id, st.Running, st.ExitCode)
		}
	}
	if got[5] != 1 || got[3] != 1 || got[-1] != 2 {
		t.Errorf("execs after restore: got %v (exit code → count, -1 running), want one 5, one 3, two running", got)
	}
	// The interactive shell kept its stdin: it still runs. Let the
	// waiting exec go, and end the shell.
	d.OK("exec", "box", "touch", "/tmp/go")
	for _, st := range before {
		if len(st.ProcessConfig.Arguments) == 0 {
			syscall.Kill(st.Pid, syscall.SIGKILL)
		}
	}
	waitFor(t, "the running execs to be recorded", 10*time.Second, func() bool {
		n := 0
		for _, id := range ids {
			if st := d.execState(id); !st.Running && st.ExitCode != nil {
				n++
			}
		}
		return n == 4
	})
	for _, id := range ids {
		want := map[string]int{"sleep 1; exit 5": 5, "exit 3": 3, "": 137}[strings.Join(before[id].ProcessConfig.Arguments[min(1, len(before[id].ProcessConfig.Arguments)):], " ")]
		if strings.Contains(strings.Join(before[id].ProcessConfig.Arguments, " "), "/tmp/go") {
			want = 6
		}
		if got := *d.execState(id).ExitCode; got != want {
			t.Errorf("exec %v: got exit code %d, want %d", before[id].ProcessConfig.Arguments, got, want)
		}
	}
}
