package cni

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	apinet "github.com/moby/moby/api/types/network"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/internal/testnetns"
	"github.com/berth-dev/berth/network"
)

// serviceWith is a network service in the runner's host namespace with
// the cni driver and no default bridge.
func serviceWith(t *testing.T, r *Runner, host string) *network.Service {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := network.New(network.Options{DB: db, NetNS: host, DefaultBridge: "none",
		Drivers: map[string]network.Driver{"cni": NewDriver(r)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestDriverInService: docker network create -d cni, two containers
// attached by the plugins (addresses from the conflist's IPAM, recorded
// and shown by the service), reaching each other; detach leaves no lease.
func TestDriverInService(t *testing.T) {
	r, host, leases := realRunner(t, "bridge", "host-local")
	writeConf(t, r, "cnibr.conflist", fmt.Sprintf(`{"cniVersion":"1.0.0","name":"cnibr","plugins":[
		{"type":"bridge","bridge":"cnisvc0","isGateway":true,"ipam":{"type":"host-local",
			"ranges":[[{"subnet":"10.95.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":%q},"dns":{"nameservers":["10.95.0.53"]}}]}`, leases))
	s := serviceWith(t, r, host)
	ctx := context.Background()

	for _, tc := range []struct {
		req  apinet.CreateRequest
		want string
	}{
		{apinet.CreateRequest{Name: "nosuch", Driver: "cni"}, "cni network nosuch: no configuration"},
		{apinet.CreateRequest{Name: "x", Driver: "cni", Options: map[string]string{OptNetwork: "cnibr"},
			IPAM: &apinet.IPAM{Config: []apinet.IPAMConfig{{Subnet: netip.MustParsePrefix("10.1.0.0/24")}}}}, "IPAM gives the addresses"},
	} {
		if _, err := s.Create(ctx, tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("create %s: got %v, want %q", tc.req.Name, err, tc.want)
		}
	}
	// By the option, and by the network's own name.
	if _, err := s.Create(ctx, apinet.CreateRequest{Name: "mynet", Driver: "cni", Options: map[string]string{OptNetwork: "cnibr"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, apinet.CreateRequest{Name: "cnibr", Driver: "cni"}); err != nil {
		t.Fatal(err)
	}
	ins, err := s.Inspect(ctx, "mynet")
	if err != nil || ins.Driver != "cni" || ins.Options[OptNetwork] != "cnibr" {
		t.Fatalf("inspect: got %+v %v, want driver cni with its option", ins, err)
	}

	var nss []string
	var addrs []netip.Prefix
	for i := range 2 {
		id := fmt.Sprintf("%064x", i+1)
		ns := testnetns.New(t)
		j, err := s.Attach(ctx, network.Container{ID: id, Name: fmt.Sprintf("c%d", i), NetNS: ns,
			Attachments: []network.Attachment{{Network: "mynet"}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Detach(context.Background(), id) })
		if len(j.Endpoints) != 1 {
			t.Fatalf("got endpoints %+v, want one", j.Endpoints)
		}
		a := j.Endpoints[0].Address
		if !netip.MustParsePrefix("10.95.0.0/24").Contains(a.Addr()) || a.Bits() != 24 {
			t.Fatalf("got address %s, want one of the conflist's range", a)
		}
		eps := s.Endpoints(id)
		if len(eps) != 1 || eps[0].Address != a || eps[0].IfName != "eth0" {
			t.Fatalf("recorded endpoints %+v, want eth0 with %s", eps, a)
		}
		if got := NewDriver(r).Nameservers(&network.Network{Name: "mynet", Options: map[string]string{OptNetwork: "cnibr"}}, &eps[0]); len(got) != 1 || got[0].String() != "10.95.0.53" {
			t.Errorf("got nameservers %v, want the conflist's 10.95.0.53", got)
		}
		if got := linkAddrs(t, ns, "eth0"); len(got) != 1 || got[0] != a.String() {
			t.Errorf("eth0: got %v, want %s", got, a)
		}
		nss, addrs = append(nss, ns), append(addrs, a)
	}
	reach(t, nss[0], nss[1], addrs[1].Addr())
	if _, err := s.Attach(ctx, network.Container{ID: fmt.Sprintf("%064x", 9), Name: "p", NetNS: testnetns.New(t),
		Attachments: []network.Attachment{{Network: "mynet"}}, Ports: []network.PortBinding{{Proto: "tcp", HostPort: 80, ContainerPort: 80}}}); err == nil {
		t.Error("published ports on a cni network without portmap: got no error")
	}
	if err := s.Remove(ctx, "mynet"); err == nil {
		t.Error("remove of a network in use: got no error")
	}
	for i := range 2 {
		if err := s.Detach(ctx, fmt.Sprintf("%064x", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if got := leaseFiles(t, leases); len(got) != 0 {
		t.Errorf("got leases %v after detach, want none", got)
	}
	if got := linkAddrs(t, nss[0], "eth0"); got != nil {
		t.Errorf("eth0 left with %v", got)
	}
	if c, _ := r.Attached(); len(c) != 0 {
		t.Errorf("got cache %+v, want none", c)
	}
	if err := s.Remove(ctx, "mynet"); err != nil {
		t.Fatal(err)
	}
}
