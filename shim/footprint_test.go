package shim

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestFootprint reports the memory of a shim serving a running container
// (figures for the benchmark and the report; nothing is asserted).
func TestFootprint(t *testing.T) {
	e := newEnv(t, "sh", "-c", "echo ready; exec sleep 1000")
	e.opts.Stdin = true
	ctx := testCtx(t)
	s := e.start(ctx)
	c, err := s.Attach(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if stream, got := readFrame(t, c); stream != Stdout || got != "ready\n" {
		t.Fatalf("got stream %d %q, want ready", stream, got)
	}
	m := smapsRollup(t, s.Pid())
	t.Logf("berth-shim pid %d: Pss %d KiB, Rss %d KiB, Private_Dirty %d KiB", s.Pid(), m["Pss"], m["Rss"], m["Private_Dirty"])
	s.Kill(ctx, syscall.SIGKILL, false)
	e.wait(s)
}

// smapsRollup reads /proc/PID/smaps_rollup in KiB.
func smapsRollup(t *testing.T, pid int) map[string]int {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if f := strings.Fields(v); ok && len(f) == 2 && f[1] == "kB" {
			m[k], _ = strconv.Atoi(f[0])
		}
	}
	return m
}
