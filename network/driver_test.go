package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	apinet "github.com/moby/moby/api/types/network"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/internal/testnetns"
	"github.com/berth-dev/berth/internal/testutil"
)

// fakeDriver records the service's calls.
type fakeDriver struct {
	mu        sync.Mutex
	calls     []string
	noSubnet  bool
	ownAddr   netip.Prefix // given to subnet-less endpoints by Join
	refuseOpt string
}

func (f *fakeDriver) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeDriver) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

func (f *fakeDriver) CheckNetwork(n *Network) error {
	f.record("check %s", n.Name)
	if _, ok := n.Options[f.refuseOpt]; ok && f.refuseOpt != "" {
		return fmt.Errorf("bad option %s: %w", f.refuseOpt, errdefs.ErrInvalidArgument)
	}
	return nil
}

func (f *fakeDriver) CreateNetwork(n *Network) error { f.record("create %s", n.Name); return nil }
func (f *fakeDriver) DeleteNetwork(n *Network) error { f.record("delete %s", n.Name); return nil }

func (f *fakeDriver) Join(n *Network, ep *Endpoint, netns string, route bool) error {
	if !ep.Address.IsValid() {
		ep.Address = f.ownAddr
	}
	ep.HostIf = "own0"
	f.record("join %s %s %s %s route=%v", n.Name, ep.IfName, ep.Address, netns, route)
	return nil
}

func (f *fakeDriver) Leave(n *Network, ep *Endpoint, netns string) error {
	f.record("leave %s %s %s", n.Name, ep.IfName, netns)
	return nil
}

func (f *fakeDriver) SubnetOptional() bool { return f.noSubnet }

func TestDriverOwnName(t *testing.T) {
	testutil.RequireRoot(t)
	db, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	host := testnetns.New(t)
	for _, name := range []string{"bridge", "host", "null", ""} {
		s, err := New(Options{DB: db, NetNS: host, Drivers: map[string]Driver{name: &fakeDriver{}}})
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "berth's own") {
			t.Errorf("driver %q: got %v, want it refused as berth's own", name, err)
		}
	}
}

func TestDriverCalls(t *testing.T) {
	fake := &fakeDriver{refuseOpt: "bad"}
	own := &fakeDriver{noSubnet: true, ownAddr: netip.MustParsePrefix("192.0.2.7/24")}
	e := newEnv(t, func(o *Options) { o.Drivers = map[string]Driver{"fake": fake, "own": own} })
	ctx := context.Background()

	_, err := e.s.Create(ctx, apinet.CreateRequest{Name: "x", Driver: "nosuch"})
	wantErr(t, err, errdefs.ErrNotFound, `plugin "nosuch" not found`)
	_, err = e.s.Create(ctx, apinet.CreateRequest{Name: "x", Driver: "fake", Options: map[string]string{"bad": "1"}})
	wantErr(t, err, errdefs.ErrInvalidArgument, "bad option bad")
	fake.took()

	sub := apinet.IPAMConfig{Subnet: netip.MustParsePrefix("10.77.0.0/24"), Gateway: netip.MustParseAddr("10.77.0.254")}
	r, err := e.s.Create(ctx, apinet.CreateRequest{Name: "lan", Driver: "fake", IPAM: &apinet.IPAM{Config: []apinet.IPAMConfig{sub}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fake.took(), []string{"check lan", "create lan"}; !slices.Equal(got, want) {
		t.Errorf("create: got calls %q, want %q", got, want)
	}
	insp, err := e.s.Inspect(ctx, r.ID)
	if err != nil || insp.Driver != "fake" {
		t.Fatalf("inspect: got %q, %v; want driver fake", insp.Driver, err)
	}

	err = e.s.Validate(ctx, "lan", []Attachment{{Network: "lan"}}, []PortBinding{{Proto: "tcp", ContainerPort: 80, HostPort: 8080}})
	wantErr(t, err, errdefs.ErrInvalidArgument, "driver does not support port mappings")

	c := e.container("c1", Attachment{Network: "lan"})
	c.NetNS = "/proc/1/ns/net" // never touched by the fake
	j, err := e.s.Attach(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fake.took(), []string{"join lan eth0 10.77.0.1/24 /proc/1/ns/net route=true"}; !slices.Equal(got, want) {
		t.Errorf("attach: got calls %q, want %q", got, want)
	}
	if len(j.Endpoints) != 1 || j.Endpoints[0].Gateway != sub.Gateway || j.Endpoints[0].HostIf != "own0" || len(j.Nameservers) != 0 {
		t.Errorf("attach: got %+v, want one endpoint via %s, HostIf own0, no embedded DNS", j, sub.Gateway)
	}
	err = e.s.Remove(ctx, "lan")
	wantErr(t, err, errdefs.ErrPermissionDenied, "active endpoints")

	// A driver's network comes up again at start; its endpoints stay.
	e.start()
	if got, want := fake.took(), []string{"create lan"}; !slices.Equal(got, want) {
		t.Errorf("start: got calls %q, want %q", got, want)
	}
	if err := e.s.Restore(ctx, map[string]string{"c1": "/proc/1/ns/net"}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Detach(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if got, want := fake.took(), []string{"leave lan eth0 /proc/1/ns/net"}; !slices.Equal(got, want) {
		t.Errorf("detach: got calls %q, want %q", got, want)
	}
	if err := e.s.Remove(ctx, "lan"); err != nil {
		t.Fatal(err)
	}
	if got, want := fake.took(), []string{"delete lan"}; !slices.Equal(got, want) {
		t.Errorf("remove: got calls %q, want %q", got, want)
	}

	// Without a subnet, a SubnetOptional driver's endpoints bring their
	// own address, recorded; the network is in use while they exist.
	if _, err := e.s.Create(ctx, apinet.CreateRequest{Name: "nic", Driver: "own"}); err != nil {
		t.Fatal(err)
	}
	insp, _ = e.s.Inspect(ctx, "nic")
	if len(insp.IPAM.Config) != 0 {
		t.Errorf("subnet-less network: got IPAM %+v, want no config", insp.IPAM.Config)
	}
	c2 := e.container("c2", Attachment{Network: "nic"})
	c2.NetNS = "/proc/1/ns/net"
	if _, err := e.s.Attach(ctx, c2); err != nil {
		t.Fatal(err)
	}
	eps := e.s.Endpoints("c2")
	if len(eps) != 1 || eps[0].Address != own.ownAddr || eps[0].Gateway.IsValid() {
		t.Errorf("endpoints: got %+v, want %s and no gateway", eps, own.ownAddr)
	}
	wantErr(t, e.s.Remove(ctx, "nic"), errdefs.ErrPermissionDenied, "active endpoints")
	// Restore with the container gone: Leave without a known namespace.
	e.start()
	if err := e.s.Restore(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := own.took(); !slices.Contains(got, "leave nic eth0 ") {
		t.Errorf("restore: got calls %q, want a leave without a namespace", got)
	}
	if err := e.s.Remove(ctx, "nic"); err != nil {
		t.Fatal(err)
	}
}
