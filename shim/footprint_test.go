package shim

import (
	"syscall"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// TestFootprint reports the memory of a shim serving a running container
// (figures for the benchmark and the report; nothing is asserted).
func TestFootprint(t *testing.T) {
	e := newEnv(t, "sh", "-c", "echo ready; exec sleep 1000")
	e.opts.Stdin = true
	ctx := testCtx(t)
	s, c := e.startAttached(ctx)
	if stream, got := readFrame(t, c); stream != Stdout || got != "ready\n" {
		t.Fatalf("got stream %d %q, want ready", stream, got)
	}
	m := testutil.SmapsRollup(t, s.Pid())
	t.Logf("berth-shim pid %d: Pss %d KiB, Rss %d KiB, Private_Dirty %d KiB", s.Pid(), m["Pss"], m["Rss"], m["Private_Dirty"])
	s.Kill(ctx, syscall.SIGKILL, false)
	e.wait(s)
}
