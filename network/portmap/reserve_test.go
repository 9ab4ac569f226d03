package portmap

import (
	"errors"
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/internal/testutil"
	netsvc "github.com/berth-dev/berth/network"
)

// inNewNS runs f on the test's goroutine, its thread moved into a
// network namespace of its own where the ephemeral range is portRange
// ("" leaves the default).
func inNewNS(t *testing.T, portRange string, f func() error) {
	t.Helper()
	testutil.RequireRoot(t)
	ns, err := netlab.NewNS()
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Back home, or the thread stays locked and dies with the test.
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
	}()
	if portRange != "" {
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_local_port_range", []byte(portRange), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

func mustReserve(t *testing.T, b netsvc.PortBinding) *Reservation {
	t.Helper()
	r, err := Reserve(b)
	if err != nil {
		t.Fatalf("Reserve %+v: %v", b, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func wantConflict(t *testing.T, b netsvc.PortBinding, msg string) {
	t.Helper()
	r, err := Reserve(b)
	if err == nil {
		r.Close()
		t.Fatalf("Reserve %+v: got port %d, want %s", b, r.Port(), msg)
	}
	if err.Error() != msg || !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("Reserve %+v: got %v, want %s (conflict)", b, err, msg)
	}
}

func TestReserveFixed(t *testing.T) {
	inNewNS(t, "", func() error {
		for _, proto := range []string{"tcp", "udp"} {
			b := pb(proto, "", 8080, 0, 80)
			r := mustReserve(t, b)
			if r.Port() != 8080 {
				t.Errorf("%s: got port %d, want 8080", proto, r.Port())
			}
			wantConflict(t, b, "Bind for 0.0.0.0:8080 failed: port is already allocated")
			wantConflict(t, pb(proto, "127.0.0.1", 8080, 0, 80), "Bind for 127.0.0.1:8080 failed: port is already allocated")
			// Another program cannot take it either.
			if proto == "tcp" {
				if l, err := net.Listen("tcp4", ":8080"); err == nil {
					l.Close()
					t.Errorf("tcp: listen on a reserved port: got no error")
				}
			} else if c, err := net.ListenPacket("udp4", ":8080"); err == nil {
				c.Close()
				t.Errorf("udp: bind on a reserved port: got no error")
			}
			if err := r.Close(); err != nil {
				t.Errorf("%s: Close: %v", proto, err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("%s: second Close: %v", proto, err)
			}
			mustReserve(t, b).Close()
		}
		// A port some program listens on.
		l, err := net.Listen("tcp4", "127.0.0.1:9090")
		if err != nil {
			return err
		}
		defer l.Close()
		wantConflict(t, pb("tcp", "", 9090, 0, 80), "Bind for 0.0.0.0:9090 failed: port is already allocated")
		mustReserve(t, pb("udp", "", 9090, 0, 80)) // another protocol: free
		return nil
	})
}

func TestReserveFree(t *testing.T) {
	inNewNS(t, "40000 40003", func() error {
		l, err := net.Listen("tcp4", ":40001")
		if err != nil {
			return err
		}
		defer l.Close()
		seen := map[uint16]bool{}
		for range 3 {
			r := mustReserve(t, pb("tcp", "", 0, 0, 80))
			if p := r.Port(); p < 40000 || p > 40003 || p == 40001 || seen[p] {
				t.Errorf("got port %d, want a free one of 40000-40003 but 40001, not %v", p, seen)
			}
			seen[r.Port()] = true
		}
		wantConflict(t, pb("tcp", "", 0, 0, 80), "Bind for 0.0.0.0:40000-40003 failed: all ports are allocated")
		// UDP ports are apart from TCP's.
		mustReserve(t, pb("udp", "", 0, 0, 80))
		return nil
	})
}

func TestReserveRange(t *testing.T) {
	inNewNS(t, "", func() error {
		b := pb("tcp", "127.0.0.1", 8000, 8002, 80)
		busy := mustReserve(t, pb("tcp", "", 8000, 0, 1))
		for _, want := range []uint16{8001, 8002} {
			if got := mustReserve(t, b).Port(); got != want {
				t.Errorf("got port %d, want %d", got, want)
			}
		}
		wantConflict(t, b, "Bind for 127.0.0.1:8000-8002 failed: all ports are allocated")
		busy.Close()
		if got := mustReserve(t, b).Port(); got != 8000 {
			t.Errorf("after release: got port %d, want 8000", got)
		}
		return nil
	})
}

func TestReserveOther(t *testing.T) {
	inNewNS(t, "", func() error {
		// An address the namespace does not have.
		if r, err := Reserve(pb("tcp", "192.0.2.9", 8080, 0, 80)); err == nil || errors.Is(err, errdefs.ErrConflict) {
			t.Errorf("foreign address: got %v, %v, want a bind error", r, err)
		}
		r := mustReserve(t, pb("sctp", "", 3868, 0, 3868))
		if r.sock == nil {
			t.Log("no SCTP in this kernel: the port is not held")
		} else {
			wantConflict(t, pb("sctp", "", 3868, 0, 3868), "Bind for 0.0.0.0:3868 failed: port is already allocated")
		}
		if r.Port() != 3868 {
			t.Errorf("sctp: got port %d, want 3868", r.Port())
		}
		r6 := mustReserve(t, pb("tcp", "::", 8080, 0, 80))
		mustReserve(t, pb("tcp", "", 8080, 0, 80)) // [::] is IPv6 only
		r6.Close()
		return nil
	})
}
