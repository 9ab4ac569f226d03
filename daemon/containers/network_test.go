package containers

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	netsvc "github.com/berth-dev/berth/network"
)

func TestAttachmentsOrder(t *testing.T) {
	nets := map[string]*network.EndpointSettings{
		"zeta":  {NetworkID: "z1"},
		"alpha": {NetworkID: "a1", Aliases: []string{"db"}},
		"web":   {NetworkID: "0123abcd", IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: netip.MustParseAddr("10.1.0.9")}},
	}
	cases := []struct {
		mode container.NetworkMode
		want []string
	}{
		{"web", []string{"web", "alpha", "zeta"}},
		{"0123", []string{"web", "alpha", "zeta"}}, // an ID prefix
		{"bridge", []string{"alpha", "web", "zeta"}},
	}
	for _, c := range cases {
		var got []string
		for _, a := range attachments(nets, primaryNetwork(nets, c.mode)) {
			got = append(got, a.Network)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("mode %s: got order %v, want %v", c.mode, got, c.want)
		}
	}
	a := attachment("web", nets["web"])
	if a.IPv4 != netip.MustParseAddr("10.1.0.9") {
		t.Errorf("static address: got %v, want 10.1.0.9", a.IPv4)
	}
	if a := attachment("alpha", nets["alpha"]); !reflect.DeepEqual(a.Aliases, []string{"db"}) {
		t.Errorf("aliases: got %v, want [db]", a.Aliases)
	}
}

func TestEndpointConfigKeepsOnlyTheRequest(t *testing.T) {
	in := &network.EndpointSettings{Aliases: []string{"a"}, IPAddress: netip.MustParseAddr("10.0.0.2"), EndpointID: "e", Gateway: netip.MustParseAddr("10.0.0.1")}
	got := endpointConfig(in, "n1")
	want := &network.EndpointSettings{Aliases: []string{"a"}, NetworkID: "n1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestPorts(t *testing.T) {
	exposed := network.PortSet{network.MustParsePort("80/tcp"): {}, network.MustParsePort("53/udp"): {}, network.MustParsePort("9000/tcp"): {}}
	pb := func(proto string, hostIP string, host, ctr uint16) netsvc.PortMapping {
		var ip netip.Addr
		if hostIP != "" {
			ip = netip.MustParseAddr(hostIP)
		}
		return netsvc.PortMapping{PortBinding: netsvc.PortBinding{Proto: proto, HostIP: ip, HostPort: host, ContainerPort: ctr}}
	}
	eps := []netsvc.Endpoint{{Ports: []netsvc.PortMapping{pb("tcp", "", 8080, 80), pb("udp", "127.0.0.1", 5353, 53), pb("tcp", "", 8080, 80)}}}
	pm := portMap(exposed, eps)
	want := network.PortMap{
		network.MustParsePort("80/tcp"):   {{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "8080"}},
		network.MustParsePort("53/udp"):   {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "5353"}},
		network.MustParsePort("9000/tcp"): nil,
	}
	if !reflect.DeepEqual(pm, want) {
		t.Errorf("port map: got %v, want %v", pm, want)
	}
	sum := portSummary(pm)
	wantSum := []container.PortSummary{
		{IP: netip.MustParseAddr("127.0.0.1"), PrivatePort: 53, PublicPort: 5353, Type: "udp"},
		{IP: netip.MustParseAddr("0.0.0.0"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
		{PrivatePort: 9000, Type: "tcp"},
	}
	if !reflect.DeepEqual(sum, wantSum) {
		t.Errorf("ps ports: got %+v, want %+v", sum, wantSum)
	}
}

func TestOwnHosts(t *testing.T) {
	eps := []netsvc.Endpoint{
		{Address: netip.MustParsePrefix("172.17.0.2/16")},
		{Address: netip.MustParsePrefix("10.5.0.3/24"), Aliases: []string{"db", "web1"}},
	}
	cases := []struct {
		cfg  container.Config
		want string
	}{
		{container.Config{Hostname: "web1"}, "172.17.0.2\tweb1\n10.5.0.3\tweb1 db\n"},
		{container.Config{Hostname: "h", Domainname: "example.org"}, "172.17.0.2\th.example.org\th\n10.5.0.3\th.example.org\th db web1\n"},
	}
	for _, c := range cases {
		if got := string(ownHosts(&c.cfg, eps)); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.cfg, got, c.want)
		}
	}
}

func TestOnNetwork(t *testing.T) {
	r := &record{HostConfig: &container.HostConfig{NetworkMode: "bridge"},
		Networks: map[string]*network.EndpointSettings{"bridge": {NetworkID: "b1"}, "front": {NetworkID: "f1"}}}
	for ref, want := range map[string]bool{"bridge": true, "front": true, "f1": true, "back": false, "": false} {
		if got := onNetwork(r, ref); got != want {
			t.Errorf("onNetwork %q: got %v, want %v", ref, got, want)
		}
	}
}

func TestPortsMatch(t *testing.T) {
	ports := []container.PortSummary{
		{PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
		{PrivatePort: 53, PublicPort: 5353, Type: "udp"},
		{PrivatePort: 9000, Type: "tcp"},
	}
	cases := []struct {
		f    map[string][]string
		want bool
	}{
		{nil, true},
		{map[string][]string{"publish": {"8080"}}, true},
		{map[string][]string{"publish": {"8080/udp"}}, false},
		{map[string][]string{"publish": {"5353/udp"}}, true},
		{map[string][]string{"publish": {"8000-8100"}}, true},
		{map[string][]string{"publish": {"80"}}, false},
		{map[string][]string{"expose": {"9000"}}, true},
		{map[string][]string{"expose": {"80/tcp"}, "publish": {"8080"}}, true},
		{map[string][]string{"expose": {"81"}}, false},
		{map[string][]string{"publish": {"9000"}}, false},
	}
	for _, c := range cases {
		if got := portsMatch(c.f, ports); got != c.want {
			t.Errorf("filters %v: got %v, want %v", c.f, got, c.want)
		}
	}
	if _, err := parsePortFilter("http"); err == nil {
		t.Errorf("filter publish=http: got no error")
	}
}

func TestCheckNoOtherNetworks(t *testing.T) {
	cases := []struct {
		mode  container.NetworkMode
		asked []string
		err   string
	}{
		{"host", nil, ""},
		{"host", []string{"host"}, ""},
		{"none", []string{"none"}, ""},
		{"container:web", []string{"container:web"}, ""},
		{"none", []string{"none", "front"}, "private (none) mode"},
		{"host", []string{"back", "front"}, "host networking can't be used with other networks (back, front)"},
	}
	for _, c := range cases {
		asked := map[string]*network.EndpointSettings{}
		for _, n := range c.asked {
			asked[n] = nil
		}
		err := checkNoOtherNetworks(c.mode, asked)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("mode %s with %v: got %v, want %q", c.mode, c.asked, err, c.err)
		}
	}
}
