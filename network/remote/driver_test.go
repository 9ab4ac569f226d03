package remote

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apinet "github.com/moby/moby/api/types/network"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/internal/testnetns"
	"github.com/berth-dev/berth/internal/testnetplugin"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/network"
)

// TestDriverInService: the test plugin as the driver "tnet" of berth's
// network service: networks get berth's subnets, containers the
// addresses of berth's IPAM on the plugin's links, and the service's
// start again does not create the plugin's network twice.
func TestDriverInService(t *testing.T) {
	testutil.RequireRoot(t)
	host := testnetns.New(t)
	dir, state := t.TempDir(), t.TempDir()
	p := testnetplugin.Start(t, dir, "tnet", host)
	plugins := testPlugins(dir, dir)
	db, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	start := func() *network.Service {
		s, err := network.New(network.Options{DB: db, NetNS: host, DefaultBridge: "none",
			Drivers: map[string]network.Driver{"tnet": plugins.NetworkDriver("tnet", host, state)}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := start()
	ctx := context.Background()
	sub := netip.MustParsePrefix("10.78.0.0/24")
	if _, err := s.Create(ctx, apinet.CreateRequest{Name: "rnet", Driver: "tnet", Options: map[string]string{"foo": "bar"},
		IPAM: &apinet.IPAM{Config: []apinet.IPAMConfig{{Subnet: sub}}}}); err != nil {
		t.Fatal(err)
	}
	if got := p.Request("NetworkDriver.CreateNetwork"); !strings.Contains(got, `"Pool":"10.78.0.0/24","Gateway":"10.78.0.1/24"`) || !strings.Contains(got, `"com.docker.network.generic":{"foo":"bar"}`) {
		t.Errorf("CreateNetwork got %s, want the pool, gateway and options", got)
	}
	s.Close()
	s = start() // CreateNetwork is not asked again

	var nss []string
	var addrs []netip.Prefix
	for i := range 2 {
		id := fmt.Sprintf("%064x", i+1)
		ns := testnetns.New(t)
		j, err := s.Attach(ctx, network.Container{ID: id, Name: fmt.Sprintf("c%d", i), NetNS: ns,
			Attachments: []network.Attachment{{Network: "rnet"}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Detach(context.Background(), id) })
		a := j.Endpoints[0].Address
		if !sub.Contains(a.Addr()) {
			t.Fatalf("got address %s, want one of %s", a, sub)
		}
		if got := p.Request("NetworkDriver.CreateEndpoint"); !strings.Contains(got, `"Address":"`+a.String()+`"`) {
			t.Errorf("CreateEndpoint got %s, want the address %s", got, a)
		}
		nss, addrs = append(nss, ns), append(addrs, a)
	}
	reach(t, nss[0], nss[1], addrs[1].Addr())
	for i := range 2 {
		if err := s.Detach(ctx, fmt.Sprintf("%064x", i+1)); err != nil {
			t.Fatal(err)
		}
		if got := linkNames(t, nss[i]); !slices.Equal(got, []string{"lo"}) {
			t.Errorf("container %d: got links %v, want lo", i, got)
		}
	}
	// Detach again: nothing to do, nothing asked.
	n := len(p.Calls())
	if err := s.Detach(ctx, fmt.Sprintf("%064x", 1)); err != nil || len(p.Calls()) != n {
		t.Errorf("second detach: %v, calls %v", err, p.Calls()[n:])
	}
	if err := s.Remove(ctx, "rnet"); err != nil {
		t.Fatal(err)
	}
	if got := linkNames(t, host); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("host: got links %v, want lo only", got)
	}
	calls := strings.Join(p.Calls(), " ") + " "
	for m, want := range map[string]int{"CreateNetwork": 1, "CreateEndpoint": 2, "Join": 2, "ProgramExternalConnectivity": 2,
		"Leave": 2, "DeleteEndpoint": 2, "DeleteNetwork": 1} {
		if got := strings.Count(calls, "NetworkDriver."+m+" "); got != want {
			t.Errorf("got %d %s calls, want %d (calls %s)", got, m, want, calls)
		}
	}

	// A plugin that cannot be reached: no network.
	if _, err := s.Create(ctx, apinet.CreateRequest{Name: "other", Driver: "tnet2"}); err == nil {
		t.Error("a driver no one registered: got no error")
	}
}
