package nat

import (
	"os"
	"testing"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/internal/testutil"
)

// TestKeepIPForward: Apply turns forwarding on unless the rules say to
// leave it (dockerd's "ip-forward": false).
func TestKeepIPForward(t *testing.T) {
	testutil.RequireRoot(t)
	for _, tc := range []struct {
		keep bool
		want string
	}{{true, "0"}, {false, "1"}} {
		ns, err := netlab.NewNS()
		must(t, err)
		t.Cleanup(func() { ns.Close() })
		const key = "/proc/sys/net/ipv4/ip_forward"
		// A new namespace may inherit the host's setting: off first.
		must(t, netlab.In(ns, func() error { return os.WriteFile(key, []byte("0\n"), 0o644) }))
		tb := openIn(t, ns, "berthtest")
		r := labRules()
		r.Ports = nil // no bridges here: only the sysctl matters
		r.KeepIPForward = tc.keep
		must(t, tb.Apply(r))
		var got []byte
		must(t, netlab.In(ns, func() (err error) { got, err = os.ReadFile(key); return err }))
		if string(got[:1]) != tc.want {
			t.Errorf("KeepIPForward %v: got ip_forward %s, want %s", tc.keep, got[:1], tc.want)
		}
	}
}
