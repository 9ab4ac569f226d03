package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	apinet "github.com/moby/moby/api/types/network"
	"github.com/vishvananda/netlink"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/internal/testnetns"
	"github.com/berth-dev/berth/internal/testutil"
)

// env is a service in a private network namespace ("the host").
type env struct {
	t    *testing.T
	host string
	db   *bolt.DB
	o    Options
	s    *Service
}

func newEnv(t *testing.T, tweak func(*Options)) *env {
	t.Helper()
	testutil.RequireRoot(t)
	e := &env{t: t, host: testnetns.New(t)}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	e.o = Options{DB: db, NetNS: e.host, Table: "berthtest"}
	if tweak != nil {
		tweak(&e.o)
	}
	e.start()
	return e
}

// start (re)opens the service on the env's database, as berthd starting.
func (e *env) start() {
	e.t.Helper()
	if e.s != nil {
		e.s.Close()
	}
	s, err := New(e.o)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	e.s = s
	e.t.Cleanup(func() { s.Close() })
}

// do runs f in the host namespace.
func (e *env) do(f func() error) {
	e.t.Helper()
	if err := testnetns.Do(e.host, f); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) create(name string, cfg ...apinet.IPAMConfig) (string, error) {
	req := apinet.CreateRequest{Name: name}
	if len(cfg) > 0 {
		req.IPAM = &apinet.IPAM{Config: cfg}
	}
	r, err := e.s.Create(context.Background(), req)
	return r.ID, err
}

func (e *env) mustCreate(name string, cfg ...apinet.IPAMConfig) string {
	e.t.Helper()
	id, err := e.create(name, cfg...)
	if err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
	return id
}

func (e *env) link(name string) netlink.Link {
	var l netlink.Link
	testnetns.Do(e.host, func() error {
		l, _ = netlink.LinkByName(name)
		return nil
	})
	return l
}

// container makes a namespace standing for a running container.
func (e *env) container(id string, atts ...Attachment) Container {
	return Container{ID: id, Name: "c-" + id, NetNS: testnetns.New(e.t), Attachments: atts}
}

func wantErr(t *testing.T, err error, class error, msg string) {
	t.Helper()
	if err == nil || !errors.Is(err, class) || !strings.Contains(err.Error(), msg) {
		t.Errorf("got error %v, want %v with %q", err, class, msg)
	}
}

func TestPredefinedAndPersistence(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	list, err := e.s.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range list {
		names = append(names, n.Name+"/"+n.Driver)
	}
	if got, want := strings.Join(names, " "), "bridge/bridge host/host none/null"; got != want {
		t.Fatalf("networks: got %s, want %s", got, want)
	}
	br, err := e.s.Inspect(ctx, "bridge")
	if err != nil {
		t.Fatal(err)
	}
	if got := br.IPAM.Config[0].Subnet.String(); got != "172.17.0.0/16" {
		t.Errorf("default subnet: got %s, want 172.17.0.0/16", got)
	}
	if got := br.Options["com.docker.network.bridge.name"]; got != "berth0" {
		t.Errorf("bridge name option: got %s, want berth0", got)
	}
	if e.link("berth0") == nil {
		t.Errorf("no berth0 in the host namespace")
	}
	for _, name := range []string{"bridge", "host", "none"} {
		wantErr(t, e.s.Remove(ctx, name), errdefs.ErrPermissionDenied, name+" is a pre-defined network and cannot be removed")
		_, err := e.create(name)
		wantErr(t, err, errdefs.ErrPermissionDenied, "pre-defined network")
	}
	id := e.mustCreate("keep")
	e.start() // berthd restarts
	br2, err := e.s.Inspect(ctx, "bridge")
	if err != nil || br2.ID != br.ID || br2.IPAM.Config[0].Subnet != br.IPAM.Config[0].Subnet {
		t.Errorf("bridge after restart: got %s %v %v, want %s and the same subnet", br2.ID, br2.IPAM.Config, err, br.ID)
	}
	if n, err := e.s.Inspect(ctx, "keep"); err != nil || n.ID != id {
		t.Errorf("user network after restart: got %s %v, want %s", n.ID, err, id)
	}
	// Restart with another --bridge and --bip: same network, new device.
	e.o.DefaultBridge, e.o.DefaultSubnet = "berth9", netip.MustParsePrefix("10.99.0.7/24")
	e.start()
	br3, err := e.s.Inspect(ctx, "bridge")
	if err != nil || br3.ID != br.ID || br3.IPAM.Config[0].Subnet.String() != "10.99.0.0/24" || br3.IPAM.Config[0].Gateway.String() != "10.99.0.7" {
		t.Errorf("bridge after --bip: got %s %v %v, want %s on 10.99.0.0/24 via 10.99.0.7", br3.ID, br3.IPAM.Config, err, br.ID)
	}
	if e.link("berth0") != nil || e.link("berth9") == nil {
		t.Errorf("after --bridge=berth9: got berth0 %v, berth9 %v, want only berth9", e.link("berth0") != nil, e.link("berth9") != nil)
	}
}

func TestDefaultBridgeDisabled(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.DefaultBridge = "none" })
	if _, err := e.s.Inspect(context.Background(), "bridge"); !errdefs.IsNotFound(err) {
		t.Errorf("bridge network with --bridge=none: got %v, want not found", err)
	}
	if e.link("berth0") != nil {
		t.Errorf("berth0 made with --bridge=none")
	}
	c := e.container("c1", Attachment{Network: DefaultNetwork})
	j, err := e.s.Attach(context.Background(), c)
	if err != nil || len(j.Endpoints) != 0 {
		t.Errorf("attach to the default network without a bridge: got %v %v, want no endpoint", j, err)
	}
	if e.hasTable() {
		t.Errorf("nftables table made with --bridge=none and no network")
	}
	e.mustCreate("u")
	if !e.hasTable() {
		t.Errorf("no nftables table with a user network")
	}
	if err := e.s.Remove(context.Background(), "u"); err != nil {
		t.Fatal(err)
	}
	if e.hasTable() {
		t.Errorf("nftables table left after the last network went")
	}
}

func TestPoolsSkipHostRoutes(t *testing.T) {
	testutil.RequireRoot(t)
	// The host has routes to 172.17.0.0/16 and 172.18.5.0/24 (say a VPN):
	// the default bridge and the first user network must avoid both.
	host := testnetns.New(t)
	err := testnetns.Do(host, func() error {
		d := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "vpn0"}}
		if err := netlink.LinkAdd(d); err != nil {
			return err
		}
		if err := netlink.LinkSetUp(d); err != nil {
			return err
		}
		for _, p := range []string{"172.17.3.1/24", "172.18.5.1/24"} {
			a, _ := netlink.ParseAddr(p)
			if err := netlink.AddrAdd(d, a); err != nil {
				return err
			}
		}
		_, dst, _ := net.ParseCIDR("172.17.0.0/16")
		return netlink.RouteAdd(&netlink.Route{LinkIndex: d.Attrs().Index, Dst: dst})
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(Options{DB: db, NetNS: host})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	br, _ := s.Inspect(ctx, "bridge")
	if got := br.IPAM.Config[0].Subnet.String(); got != "172.19.0.0/16" {
		t.Errorf("default bridge subnet: got %s, want 172.19.0.0/16", got)
	}
	r, err := s.Create(ctx, apinet.CreateRequest{Name: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	n1, _ := s.Inspect(ctx, r.ID)
	if got := n1.IPAM.Config[0].Subnet.String(); got != "172.20.0.0/16" {
		t.Errorf("user network subnet: got %s, want 172.20.0.0/16", got)
	}
	if got := n1.IPAM.Config[0].Gateway.String(); got != "172.20.0.1" {
		t.Errorf("user network gateway: got %s, want 172.20.0.1", got)
	}
}

func TestCreateErrors(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	id := e.mustCreate("n1", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.10.0.0/16")})
	_, err := e.create("n1")
	wantErr(t, err, errdefs.ErrAlreadyExists, "network with name n1 already exists")
	_, err = e.create("n2", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.10.128.0/24")})
	wantErr(t, err, errdefs.ErrPermissionDenied, "Pool overlaps with other one on this address space")
	_, err = e.create("n3", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.11.1.1/16")})
	wantErr(t, err, errdefs.ErrInvalidArgument, "invalid subnet 10.11.1.1/16: it should be 10.11.0.0/16")
	_, err = e.s.Create(ctx, apinet.CreateRequest{Name: "n4", Driver: "nosuch"})
	wantErr(t, err, errdefs.ErrNotFound, `plugin "nosuch" not found`)
	_, err = e.s.Create(ctx, apinet.CreateRequest{Name: "n5", Options: map[string]string{optBridgeName: "berth0"}})
	wantErr(t, err, errdefs.ErrConflict, "bridge name berth0 is already used")
	// Nothing was left of the failures.
	list, _ := e.s.List(ctx, map[string][]string{"type": {"custom"}})
	if len(list) != 1 || list[0].ID != id {
		t.Errorf("custom networks: got %v, want only n1", list)
	}
	_, err = e.s.Inspect(ctx, "nosuch")
	wantErr(t, err, errdefs.ErrNotFound, "network nosuch not found")
	if n, err := e.s.Inspect(ctx, id[:5]); err != nil || n.Name != "n1" {
		t.Errorf("inspect by ID prefix: got %v %v, want n1", n.Name, err)
	}
}

func TestCreateOptionsAndRemove(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	id, err := e.s.Create(ctx, apinet.CreateRequest{Name: "opt", Internal: true, Labels: map[string]string{"a": "b"},
		Options: map[string]string{optBridgeName: "brtest0", optMTU: "1400"}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := e.s.Inspect(ctx, "opt")
	if !n.Internal || n.Labels["a"] != "b" || n.Options[optBridgeName] != "brtest0" {
		t.Errorf("inspect: got %+v", n)
	}
	l := e.link("brtest0")
	if l == nil || l.Attrs().MTU != 1400 {
		t.Fatalf("bridge brtest0: got %v, want a bridge with MTU 1400", l)
	}
	if err := e.s.Remove(ctx, id.ID[:12]); err != nil {
		t.Fatal(err)
	}
	if e.link("brtest0") != nil {
		t.Errorf("brtest0 still there after rm")
	}
	wantErr(t, e.s.Remove(ctx, "opt"), errdefs.ErrNotFound, "network opt not found")
}

func TestConcurrentAttach(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.mustCreate("many", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.20.0.0/24")})
	const count = 50
	cs := make([]Container, count)
	for i := range cs {
		cs[i] = e.container(fmt.Sprintf("ctr%02d", i), Attachment{Network: "many"})
	}
	var wg sync.WaitGroup
	joined := make([]Joined, count)
	errs := make([]error, count)
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			joined[i], errs[i] = e.s.Attach(ctx, cs[i])
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]string{}
	for i, j := range joined {
		if errs[i] != nil {
			t.Fatalf("attach %s: %v", cs[i].ID, errs[i])
		}
		a := j.Endpoints[0].Address.Addr()
		if other, dup := seen[a]; dup {
			t.Errorf("%s and %s both got %s", other, cs[i].ID, a)
		}
		seen[a] = cs[i].ID
	}
	if len(seen) != count {
		t.Errorf("distinct addresses: got %d, want %d", len(seen), count)
	}
	n, _ := e.s.Inspect(ctx, "many")
	if len(n.Containers) != count {
		t.Errorf("inspect containers: got %d, want %d", len(n.Containers), count)
	}
	if st := n.Status.IPAM.Subnets[netip.MustParsePrefix("10.20.0.0/24")]; st.IPsInUse != count || st.DynamicIPsAvailable != 253-count {
		t.Errorf("status: got %+v, want %d in use, %d available", st, count, 253-count)
	}
	wantErr(t, e.s.Remove(ctx, "many"), errdefs.ErrPermissionDenied, "error while removing network: network many has active endpoints")
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.s.Detach(ctx, c.ID); err != nil {
				t.Errorf("detach %s: %v", c.ID, err)
			}
		}()
	}
	wg.Wait()
	e.checkClean("many")
	if err := e.s.Remove(ctx, "many"); err != nil {
		t.Errorf("rm after every container left: %v", err)
	}
}

// checkClean checks that a network has no endpoint, lease or veth left.
func (e *env) checkClean(network string) {
	e.t.Helper()
	n, err := e.s.Inspect(context.Background(), network)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(n.Containers) != 0 {
		e.t.Errorf("endpoints left on %s: %v", network, n.Containers)
	}
	ports, err := e.s.drv.Ports(e.s.networks[n.ID].Bridge)
	if err != nil || len(ports) != 0 {
		e.t.Errorf("veths left on %s's bridge: %v %v", network, ports, err)
	}
	e.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(endpointsBucket).Cursor().First(); k != nil {
			e.t.Errorf("endpoint records left: %s…", k)
		}
		return nil
	})
}

func TestStaticAddressAndAttach(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.mustCreate("web", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.30.0.0/24")})
	e.mustCreate("db", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.31.0.0/24")})
	ip := netip.MustParseAddr("10.30.0.50")
	c1 := e.container("one", Attachment{Network: "web", IPv4: ip, Aliases: []string{"www"}}, Attachment{Network: "db"})
	j, err := e.s.Attach(ctx, c1)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Endpoints) != 2 {
		t.Fatalf("endpoints: got %d, want 2", len(j.Endpoints))
	}
	e0, e1 := j.Endpoints[0], j.Endpoints[1]
	if e0.Address.String() != "10.30.0.50/24" || e0.IfName != "eth0" || e0.MAC != "02:42:0a:1e:00:32" || e0.Gateway.String() != "10.30.0.1" {
		t.Errorf("eth0: got %+v", e0)
	}
	if e1.Address.String() != "10.31.0.2/24" || e1.IfName != "eth1" {
		t.Errorf("eth1: got %+v", e1)
	}
	if len(j.Nameservers) != 1 || j.Nameservers[0].String() != "10.30.0.1" {
		t.Errorf("nameservers: got %v, want [10.30.0.1]", j.Nameservers)
	}
	// The same address again: a clear error, and nothing left of c2.
	c2 := e.container("two", Attachment{Network: "db"}, Attachment{Network: "web", IPv4: ip})
	wantErr(t, e.s.Validate(ctx, "web", c2.Attachments, nil), errdefs.ErrConflict, "address 10.30.0.50 already in use on network web")
	_, err = e.s.Attach(ctx, c2)
	wantErr(t, err, errdefs.ErrConflict, "address 10.30.0.50 already in use on network web")
	if eps := e.s.Endpoints("two"); len(eps) != 0 {
		t.Errorf("endpoints of a failed attach: %v", eps)
	}
	for _, tc := range []struct {
		att   Attachment
		class error
		msg   string
	}{
		{Attachment{Network: "web", IPv4: netip.MustParseAddr("10.99.0.5")}, errdefs.ErrInvalidArgument, "no configured subnet or ip-range contain the IP address 10.99.0.5"},
		{Attachment{Network: "bridge", IPv4: netip.MustParseAddr("172.17.0.9")}, errdefs.ErrInvalidArgument, "user specified IP address is supported on user defined networks only"},
		{Attachment{Network: "bridge", Aliases: []string{"x"}}, errdefs.ErrInvalidArgument, "network-scoped alias is supported only for containers in user defined networks"},
		{Attachment{Network: "web", IPv4: netip.MustParseAddr("10.30.0.1")}, errdefs.ErrConflict, "already in use"},
		{Attachment{Network: "host"}, errdefs.ErrInvalidArgument, "host network"},
		{Attachment{Network: "nosuch"}, errdefs.ErrNotFound, "network nosuch not found"},
	} {
		wantErr(t, e.s.Validate(ctx, "x", []Attachment{tc.att}, nil), tc.class, tc.msg)
	}
	// DNS view: one sees its own names on both networks.
	l := lookup{e.s}
	if got := l.LookupName(ip, "www"); len(got) != 1 || got[0] != ip {
		t.Errorf("lookup www: got %v, want [%s]", got, ip)
	}
	if got := l.LookupName(ip, "c-one.db"); len(got) != 1 || got[0].String() != "10.31.0.2" {
		t.Errorf("lookup c-one.db: got %v, want [10.31.0.2]", got)
	}
	if got := l.LookupAddr(ip, ip); len(got) != 1 || got[0] != "c-one.web" {
		t.Errorf("lookup addr: got %v, want [c-one.web]", got)
	}
	if got := l.LookupName(netip.MustParseAddr("10.99.9.9"), "www"); len(got) != 0 {
		t.Errorf("lookup from a stranger: got %v, want nothing", got)
	}
	// Connect and disconnect.
	ep, err := e.s.Connect(ctx, c1, Attachment{Network: "bridge"})
	if err != nil || ep.IfName != "eth2" || !strings.HasPrefix(ep.Address.String(), "172.17.0.") {
		t.Errorf("connect: got %+v %v, want eth2 on 172.17.0.0/16", ep, err)
	}
	_, err = e.s.Connect(ctx, c1, Attachment{Network: "db"})
	wantErr(t, err, errdefs.ErrPermissionDenied, "endpoint with name c-one already exists in network db")
	if err := e.s.Disconnect(ctx, "one", "db", false); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.s.Disconnect(ctx, "one", "db", false), errdefs.ErrPermissionDenied, "is not connected to network db")
	if got := len(e.s.Endpoints("one")); got != 2 {
		t.Errorf("endpoints after disconnect: got %d, want 2", got)
	}
	if err := e.s.Detach(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	e.checkClean("web")
	e.checkClean("db")
}

// fakePorts holds published ports in memory.
type fakePorts struct {
	mu   sync.Mutex
	held map[uint16]bool
	next uint16
}

type fakeResv struct {
	f    *fakePorts
	port uint16
}

func (r *fakeResv) Port() uint16 { return r.port }
func (r *fakeResv) Close() error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	delete(r.f.held, r.port)
	return nil
}

func (f *fakePorts) reserve(b PortBinding) (Reservation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := b.HostPort
	if p == 0 {
		f.next++
		p = 40000 + f.next
	}
	if f.held[p] {
		return nil, fmt.Errorf("Bind for 0.0.0.0:%d failed: port is already allocated: %w", p, errdefs.ErrConflict)
	}
	f.held[p] = true
	return &fakeResv{f: f, port: p}, nil
}

func TestPortsAndRestore(t *testing.T) {
	fp := &fakePorts{held: map[uint16]bool{}}
	e := newEnv(t, func(o *Options) { o.Reserve = fp.reserve })
	ctx := context.Background()
	if _, err := e.s.Create(ctx, apinet.CreateRequest{Name: "pub", Options: map[string]string{optHostIP: "127.0.0.1"},
		IPAM: &apinet.IPAM{Config: []apinet.IPAMConfig{{Subnet: netip.MustParsePrefix("10.40.0.0/24")}}}}); err != nil {
		t.Fatal(err)
	}
	web := e.container("web", Attachment{Network: "pub"})
	web.Ports = []PortBinding{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}, {Proto: "udp", ContainerPort: 53}}
	j, err := e.s.Attach(ctx, web)
	if err != nil {
		t.Fatal(err)
	}
	ports := j.Endpoints[0].Ports
	if len(ports) != 2 || ports[0].HostPort != 8080 || ports[1].HostPort == 0 || ports[1].ContainerIP.String() != "10.40.0.2" ||
		ports[0].HostIP.String() != "127.0.0.1" {
		t.Errorf("ports: got %+v", ports)
	}
	// The ruleset is data: every bridge network and the published ports.
	e.s.mu.Lock()
	r := e.s.rulesLocked()
	e.s.mu.Unlock()
	if got, want := fmt.Sprint(r), fmt.Sprintf("{[{berth0 172.17.0.0/16 false true} {%s 10.40.0.0/24 false true}] "+
		"[{tcp 127.0.0.1 8080 10.40.0.2 80 %[1]s} {udp 127.0.0.1 %d 10.40.0.2 53 %[1]s}] false}", e.s.networks[j.Endpoints[0].NetworkID].Bridge, ports[1].HostPort); got != want {
		t.Errorf("rules:\n got %s\nwant %s", got, want)
	}
	clash := e.container("clash", Attachment{Network: "pub"})
	clash.Ports = []PortBinding{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}}
	_, err = e.s.Attach(ctx, clash)
	wantErr(t, err, errdefs.ErrConflict, "port is already allocated")
	if eps := e.s.Endpoints("clash"); len(eps) != 0 {
		t.Errorf("endpoints after a port clash: %v", eps)
	}
	dead := e.container("dead", Attachment{Network: "pub"}, Attachment{Network: "bridge"})
	if _, err := e.s.Attach(ctx, dead); err != nil {
		t.Fatal(err)
	}
	// A veth on a berth bridge that no record names (say from a
	// database restored from a backup) goes at restore too.
	e.do(func() error {
		br, err := netlink.LinkByName("berth0")
		if err != nil {
			return err
		}
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MasterIndex = "vethstray", br.Attrs().Index
		return netlink.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "vethstrayp"})
	})
	// berthd restarts: web still runs, dead does not.
	e.start()
	if err := e.s.Restore(ctx, map[string]string{"web": web.NetNS}); err != nil {
		t.Fatal(err)
	}
	if eps := e.s.Endpoints("dead"); len(eps) != 0 {
		t.Errorf("endpoints of a dead container after restore: %v", eps)
	}
	if eps := e.s.Endpoints("web"); len(eps) != 1 || len(eps[0].Ports) != 2 {
		t.Errorf("endpoints of a running container after restore: %v", eps)
	}
	for _, br := range []string{"berth0"} {
		if ports, _ := e.s.drv.Ports(br); len(ports) != 0 {
			t.Errorf("veths left on %s: %v", br, ports)
		}
	}
	fp.mu.Lock()
	held := len(fp.held)
	fp.mu.Unlock()
	if held != 2 {
		t.Errorf("ports held after restore: got %d, want 2", held)
	}
	if err := e.s.Detach(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	e.checkClean("pub")
	if len(fp.held) != 0 {
		t.Errorf("ports still held after detach: %v", fp.held)
	}
}

// routesIn are the container's IPv4 routes, as "dst via gw dev".
func routesIn(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	err := testnetns.Do(path, func() error {
		rs, err := netlink.RouteList(nil, netlink.FAMILY_V4)
		for _, r := range rs {
			l, _ := netlink.LinkByIndex(r.LinkIndex)
			dst := "default"
			if r.Dst != nil && r.Dst.String() != "0.0.0.0/0" {
				dst = r.Dst.String()
			}
			s := dst
			if r.Gw != nil {
				s += " via " + r.Gw.String()
			}
			if l != nil {
				s += " dev " + l.Attrs().Name
			}
			out = append(out, s)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInternalNetworkRoute(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.s.Create(ctx, apinet.CreateRequest{Name: "in", Internal: true,
		IPAM: &apinet.IPAM{Config: []apinet.IPAMConfig{{Subnet: netip.MustParsePrefix("10.50.0.0/24")}}}}); err != nil {
		t.Fatal(err)
	}
	e.mustCreate("out", apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.51.0.0/24")})
	// Internal first: the default route comes from the second network.
	c := e.container("r", Attachment{Network: "in"}, Attachment{Network: "out"})
	j, err := e.s.Attach(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if j.Endpoints[0].Gateway.IsValid() || j.Endpoints[1].Gateway.String() != "10.51.0.1" {
		t.Errorf("gateways: got %s and %s, want none and 10.51.0.1", j.Endpoints[0].Gateway, j.Endpoints[1].Gateway)
	}
	got := strings.Join(routesIn(t, c.NetNS), ", ")
	want := "default via 10.51.0.1 dev eth1, 10.50.0.0/24 dev eth0, 10.51.0.0/24 dev eth1"
	if got != want {
		t.Errorf("routes in the container: got %s, want %s", got, want)
	}
	only := e.container("o", Attachment{Network: "in"})
	if _, err := e.s.Attach(ctx, only); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(routesIn(t, only.NetNS), ", "); got != "10.50.0.0/24 dev eth0" {
		t.Errorf("routes on an internal network only: got %s, want 10.50.0.0/24 dev eth0", got)
	}
	err = e.s.Validate(ctx, "container:x", nil, []PortBinding{{Proto: "tcp", HostPort: 80, ContainerPort: 80}})
	wantErr(t, err, errdefs.ErrInvalidArgument, "conflicting options: port publishing and the container type network mode")
	err = e.s.Validate(ctx, "out", []Attachment{{Network: "out"}}, []PortBinding{{Proto: "icmp", ContainerPort: 80}})
	wantErr(t, err, errdefs.ErrInvalidArgument, "invalid proto: icmp")
	for _, id := range []string{"r", "o"} {
		if err := e.s.Detach(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	e.checkClean("in")
	e.checkClean("out")
}

func TestPrune(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.mustCreate("idle")
	if _, err := e.s.Create(ctx, apinet.CreateRequest{Name: "kept", Labels: map[string]string{"keep": "1"}}); err != nil {
		t.Fatal(err)
	}
	e.mustCreate("busy")
	c := e.container("p", Attachment{Network: "busy"})
	if _, err := e.s.Attach(ctx, c); err != nil {
		t.Fatal(err)
	}
	rep, err := e.s.Prune(ctx, map[string][]string{"label!": {"keep"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.NetworksDeleted, " "); got != "idle" {
		t.Errorf("pruned: got %q, want idle", got)
	}
	list, _ := e.s.List(ctx, nil)
	var names []string
	for _, n := range list {
		names = append(names, n.Name)
	}
	if got, want := strings.Join(names, " "), "bridge busy host kept none"; got != want {
		t.Errorf("left: got %s, want %s", got, want)
	}
	if err := e.s.Detach(ctx, "p"); err != nil {
		t.Fatal(err)
	}
}
