package network

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/nftables"
	mdns "github.com/miekg/dns"
	apinet "github.com/moby/moby/api/types/network"

	"github.com/berth-dev/berth/internal/testnetns"
)

// listen opens a TCP listener inside the namespace at path; it answers
// each connection with "hi" and closes it.
func listen(t *testing.T, path, addr string) {
	t.Helper()
	var l net.Listener
	if err := testnetns.Do(path, func() (err error) { l, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
}

// dial connects from inside the namespace at path and reads the answer.
func dial(path, addr string) (string, error) {
	var got []byte
	err := testnetns.Do(path, func() error {
		c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		got, err = io.ReadAll(c)
		return err
	})
	return string(got), err
}

// TestTraffic sends real packets: container to container and host to
// container over the bridge, and a name lookup from a container to the
// embedded DNS on the gateway. The rules are written to a table in the
// test's namespace.
func TestTraffic(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.mustCreate("talk", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.60.0.0/24")})
	a := e.container("aaaa", Attachment{Network: "talk", Aliases: []string{"alpha"}})
	b := e.container("bbbb", Attachment{Network: "talk"})
	ja, err := e.s.Attach(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Attach(ctx, b); err != nil {
		t.Fatal(err)
	}
	aAddr := ja.Endpoints[0].Address.Addr().String()
	listen(t, a.NetNS, aAddr+":7000")
	for _, from := range []struct{ name, path string }{{"container b", b.NetNS}, {"the host", e.host}} {
		if got, err := dial(from.path, aAddr+":7000"); err != nil || got != "hi" {
			t.Errorf("from %s to a: got %q %v, want hi", from.name, got, err)
		}
	}
	// b asks the embedded DNS (its nameserver, the gateway) for a's alias.
	var answer []netip.Addr
	err = testnetns.Do(b.NetNS, func() error {
		m := new(mdns.Msg)
		m.SetQuestion("alpha.", mdns.TypeA)
		c := &mdns.Client{Timeout: 5 * time.Second}
		r, _, err := c.Exchange(m, net.JoinHostPort(ja.Nameservers[0].String(), "53"))
		if err != nil {
			return err
		}
		for _, rr := range r.Answer {
			if arr, ok := rr.(*mdns.A); ok {
				ip, _ := netip.AddrFromSlice(arr.A.To4())
				answer = append(answer, ip)
			}
		}
		return nil
	})
	if err != nil || !slices.Equal(answer, []netip.Addr{ja.Endpoints[0].Address.Addr()}) {
		t.Errorf("DNS alpha from b: got %v %v, want [%s]", answer, err, aAddr)
	}
	// The rules are in the test namespace's table, not the host's.
	if !e.hasTable() {
		t.Errorf("table berthtest missing in the test namespace")
	}
	for _, id := range []string{"aaaa", "bbbb"} {
		if err := e.s.Detach(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	e.checkClean("talk")
}

// hasTable reports whether the env's nftables table is in its namespace.
func (e *env) hasTable() bool {
	e.t.Helper()
	f, err := os.Open(e.host)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	conn, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if err != nil {
		e.t.Fatal(err)
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		e.t.Fatal(err)
	}
	return slices.ContainsFunc(tables, func(tb *nftables.Table) bool { return tb.Name == e.o.Table })
}
