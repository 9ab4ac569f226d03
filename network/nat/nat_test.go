package nat

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/google/nftables"
	"github.com/vishvananda/netns"
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// labRules: brA's a1 publishes 8080 (TCP and UDP) on every address and
// 8081 on 127.0.0.1 only; brB's b1 publishes 9090.
func labRules() Rules {
	a1, b1 := ip("10.88.1.2"), ip("10.88.2.2")
	return Rules{
		Networks: []NetRule{netA, netB, netI},
		Ports: []PortRule{
			{Proto: "tcp", HostPort: 8080, ContainerIP: a1, ContainerPort: 80, Bridge: "brA"},
			{Proto: "udp", HostPort: 8080, ContainerIP: a1, ContainerPort: 80, Bridge: "brA"},
			{Proto: "tcp", HostIP: ip("127.0.0.1"), HostPort: 8081, ContainerIP: a1, ContainerPort: 80, Bridge: "brA"},
			{Proto: "tcp", HostPort: 9090, ContainerIP: b1, ContainerPort: 80, Bridge: "brB"},
		},
	}
}

// openIn opens table name in ns; it is deleted and closed at cleanup.
func openIn(t *testing.T, ns netns.NsHandle, name string) *Table {
	t.Helper()
	var tb *Table
	must(t, netlab.In(ns, func() (err error) { tb, err = Open(name); return err }))
	t.Cleanup(func() { tb.Delete(); tb.Close() })
	return tb
}

func TestDataPath(t *testing.T) {
	l := newLab(t)
	tb := openIn(t, l.h, "berthtest")
	must(t, tb.Apply(labRules()))
	var bridgeFilter bool
	must(t, netlab.In(l.h, func() error { bridgeFilter = BridgeFilter(); return nil }))

	type check struct {
		name        string
		from        netns.NsHandle
		proto, addr string
		want        string // the client address the server saw; "" blocked
		refused     bool   // nothing answers: the port is not forwarded
	}
	checks := []check{
		{"host to 127.0.0.1 published tcp", l.h, "tcp", "127.0.0.1:8080", "10.88.1.1", false},
		{"host to 127.0.0.1 published udp", l.h, "udp", "127.0.0.1:8080", "10.88.1.1", false},
		{"host to its external address", l.h, "tcp", "192.0.2.1:8080", "192.0.2.1", false},
		{"host to port on 127.0.0.1 only", l.h, "tcp", "127.0.0.1:8081", "10.88.1.1", false},
		{"host to container direct", l.h, "tcp", "10.88.1.2:80", "10.88.1.1", false},
		{"other host to published tcp", l.x, "tcp", "192.0.2.1:8080", "192.0.2.2", false},
		{"other host to published udp", l.x, "udp", "192.0.2.1:8080", "192.0.2.2", false},
		{"other host to port on 127.0.0.1 only", l.x, "tcp", "192.0.2.1:8081", "", true},
		{"container out, masqueraded", l.a1, "tcp", "192.0.2.2:80", "192.0.2.1", false},
		{"container out udp, masqueraded", l.a1, "udp", "192.0.2.2:80", "192.0.2.1", false},
		{"hairpin to itself", l.a1, "tcp", "192.0.2.1:8080", "10.88.1.1", false},
		{"hairpin udp", l.a1, "udp", "192.0.2.1:8080", "10.88.1.1", false},
		{"neighbour via the gateway's port", l.a2, "tcp", "10.88.1.1:8080", "10.88.1.1", false},
		{"same network direct (ICC on)", l.a2, "tcp", "10.88.1.2:80", "10.88.1.3", false},
		{"other network direct", l.b1, "tcp", "10.88.1.2:80", "", false},
		{"other network direct udp", l.b1, "udp", "10.88.1.2:80", "", false},
		// Masqueraded: it leaves brB's subnet by another bridge.
		{"other network via published port", l.b1, "tcp", "192.0.2.1:8080", "10.88.1.1", false},
		{"internal network out", l.i1, "tcp", "192.0.2.2:80", "", false},
		{"internal network out udp", l.i1, "udp", "192.0.2.2:80", "", false},
		{"internal network to other network", l.i1, "tcp", "10.88.1.2:80", "", false},
		{"into internal network", l.a1, "tcp", "10.88.3.2:80", "", false},
		{"other host into a network", l.x, "tcp", "10.88.1.2:80", "", true},
	}
	if bridgeFilter {
		checks = append(checks, check{"same network direct (ICC off)", l.b1, "tcp", "10.88.2.3:80", "", false})
	} else {
		t.Log("no br_netfilter: ICC off is not enforced, not checked")
	}
	run := func(t *testing.T) {
		for _, c := range checks {
			got, err := l.ask(c.from, c.proto, c.addr)
			switch {
			case c.refused:
				if err == nil {
					t.Errorf("%s: %s %s: got an answer from %s, want none", c.name, c.proto, c.addr, got)
				}
			case c.want == "":
				if !errors.Is(err, errBlocked) {
					t.Errorf("%s: %s %s: got %q, %v, want blocked", c.name, c.proto, c.addr, got, err)
				}
			case err != nil || got != c.want:
				t.Errorf("%s: %s %s: got %q, %v, want seen from %s", c.name, c.proto, c.addr, got, err, c.want)
			}
		}
	}
	t.Run("first", run)

	// Apply again: the same table, the same behaviour.
	before := dump(t, l.h, "berthtest")
	must(t, tb.Apply(labRules()))
	if after := dump(t, l.h, "berthtest"); !slices.Equal(before, after) {
		t.Errorf("second Apply: got\n%v\nwant\n%v", after, before)
	}
	t.Run("again", run)
}

// dump describes the table: its chains with their rule counts and its
// sets with their element counts.
func dump(t *testing.T, ns netns.NsHandle, name string) []string {
	t.Helper()
	var out []string
	must(t, netlab.In(ns, func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		tb := &nftables.Table{Name: name, Family: nftables.TableFamilyINet}
		chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
		if err != nil {
			return err
		}
		for _, ch := range chains {
			if ch.Table.Name != name {
				continue
			}
			rules, err := c.GetRules(tb, ch)
			if err != nil {
				return err
			}
			out = append(out, "chain "+ch.Name+" rules "+strconv.Itoa(len(rules)))
		}
		sets, err := c.GetSets(tb)
		if err != nil {
			return err
		}
		for _, s := range sets {
			e, err := c.GetSetElements(s)
			if err != nil {
				return err
			}
			out = append(out, "set "+s.Name+" elements "+strconv.Itoa(len(e)))
		}
		return nil
	}))
	slices.Sort(out)
	return out
}

// tables lists the inet tables in ns.
func tables(t *testing.T, ns netns.NsHandle) []string {
	t.Helper()
	var names []string
	must(t, netlab.In(ns, func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		ts, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
		for _, tb := range ts {
			names = append(names, tb.Name)
		}
		return err
	}))
	slices.Sort(names)
	return names
}

func TestDeleteAndOtherTables(t *testing.T) {
	l := newLab(t)
	// Someone else's table, with a chain and a rule-less set.
	must(t, netlab.In(l.h, func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		other := c.AddTable(&nftables.Table{Name: "other", Family: nftables.TableFamilyINet})
		c.AddChain(&nftables.Chain{Name: "mine", Table: other})
		return c.Flush()
	}))
	tb := openIn(t, l.h, "berthtest")
	must(t, tb.Apply(labRules()))
	if got, want := tables(t, l.h), []string{"berthtest", "other"}; !slices.Equal(got, want) {
		t.Errorf("after Apply: got tables %v, want %v", got, want)
	}
	must(t, tb.Delete())
	if got, want := tables(t, l.h), []string{"other"}; !slices.Equal(got, want) {
		t.Errorf("after Delete: got tables %v, want %v", got, want)
	}
	if err := tb.Delete(); err != nil {
		t.Errorf("Delete of an absent table: got %v, want nil", err)
	}
	if got, want := dump(t, l.h, "other"), []string{"chain mine rules 0"}; !slices.Equal(got, want) {
		t.Errorf("other table: got %v, want %v", got, want)
	}
	if _, err := l.ask(l.h, "tcp", "127.0.0.1:8080"); err == nil {
		t.Errorf("published port after Delete: got an answer, want none")
	}
}

func TestManyPorts(t *testing.T) {
	l := newLab(t)
	tb := openIn(t, l.h, "berthtest")
	r := labRules()
	for p := 10000; p < 11000; p++ {
		r.Ports = append(r.Ports, PortRule{Proto: "tcp", HostPort: uint16(p), ContainerIP: ip("10.88.1.3"), ContainerPort: 80, Bridge: "brA"})
	}
	for i := range 3 {
		start := time.Now()
		must(t, tb.Apply(r))
		t.Logf("Apply %d with %d ports: %v", i+1, len(r.Ports), time.Since(start))
	}
	for _, addr := range []string{"127.0.0.1:10000", "192.0.2.1:10999", "127.0.0.1:8080"} {
		if got, err := l.ask(l.h, "tcp", addr); err != nil || got == "" {
			t.Errorf("host to %s: got %q, %v, want an answer", addr, got, err)
		}
	}
	d := dump(t, l.h, "berthtest")
	if !slices.Contains(d, "set ports elements 1003") {
		t.Errorf("got %v, want the ports map with 1003 elements", d)
	}
}

func TestValidate(t *testing.T) {
	good := PortRule{Proto: "tcp", HostPort: 80, ContainerIP: ip("10.0.0.2"), ContainerPort: 80, Bridge: "br0"}
	bad := func(f func(*PortRule)) Rules { p := good; f(&p); return Rules{Ports: []PortRule{p}} }
	tests := []struct {
		name string
		r    Rules
		ok   bool
	}{
		{"good", Rules{Networks: []NetRule{{Bridge: "br0", Subnet: pfx("10.0.0.0/24")}}, Ports: []PortRule{good, good}}, true},
		{"long bridge name", Rules{Networks: []NetRule{{Bridge: "0123456789abcdef", Subnet: pfx("10.0.0.0/24")}}}, false},
		{"bridge twice", Rules{Networks: []NetRule{{Bridge: "br0", Subnet: pfx("10.0.0.0/24")}, {Bridge: "br0", Subnet: pfx("10.0.1.0/24")}}}, false},
		{"IPv6 subnet", Rules{Networks: []NetRule{{Bridge: "br0", Subnet: pfx("fd00::/64")}}}, false},
		{"no subnet", Rules{Networks: []NetRule{{Bridge: "br0"}}}, false},
		{"protocol", bad(func(p *PortRule) { p.Proto = "icmp" }), false},
		{"host port 0", bad(func(p *PortRule) { p.HostPort = 0 }), false},
		{"container port 0", bad(func(p *PortRule) { p.ContainerPort = 0 }), false},
		{"no container address", bad(func(p *PortRule) { p.ContainerIP = netip.Addr{} }), false},
		{"IPv6 host address", bad(func(p *PortRule) { p.HostIP = ip("::1") }), false},
		{"bridge with slash", bad(func(p *PortRule) { p.Bridge = "../x" }), false},
		{"bridge named ..", bad(func(p *PortRule) { p.Bridge = ".." }), false}, // a sysctl path
	}
	for _, tt := range tests {
		err := tt.r.validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
	}
	// The first of two rules for one port wins.
	other := good
	other.ContainerIP = ip("10.0.0.9")
	anyIP, _ := portElements([]PortRule{good, other})
	if len(anyIP) != 1 || anyIP[0].Val[3] != 2 {
		t.Errorf("port given twice: got %v, want one element to 10.0.0.2", anyIP)
	}
}
