package network

import (
	"bytes"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/cli/command"
)

func TestIPAM(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	for _, tc := range []struct {
		subnets, ranges, gateways, aux []string
		want                           []network.IPAMConfig
		err                            string
	}{
		{want: []network.IPAMConfig{}},
		{subnets: []string{"10.1.0.0/16"}, want: []network.IPAMConfig{{Subnet: pfx("10.1.0.0/16")}}},
		{subnets: []string{"10.1.0.0/16", "10.2.0.0/24"}, ranges: []string{"10.2.0.128/25", "10.1.5.0/24"},
			gateways: []string{"10.1.0.254", "10.2.0.1"}, aux: []string{"router=10.1.0.2"},
			want: []network.IPAMConfig{
				{Subnet: pfx("10.1.0.0/16"), IPRange: pfx("10.1.5.0/24"), Gateway: addr("10.1.0.254"), AuxAddress: map[string]netip.Addr{"router": addr("10.1.0.2")}},
				{Subnet: pfx("10.2.0.0/24"), IPRange: pfx("10.2.0.128/25"), Gateway: addr("10.2.0.1")},
			}},
		{subnets: []string{"10.1.0.0/33"}, err: "invalid subnet: invalid CIDR address: 10.1.0.0/33"},
		{subnets: []string{"nonsense"}, err: "invalid subnet"},
		{subnets: []string{"10.1.0.0/16", "10.1.2.0/24"}, err: "multiple overlapping subnet configuration is not supported"},
		{gateways: []string{"10.1.0.1"}, err: "no matching subnet for gateway 10.1.0.1"},
		{subnets: []string{"10.1.0.0/24"}, gateways: []string{"10.9.0.1"}, err: "no matching subnet for gateway 10.9.0.1"},
		{subnets: []string{"10.1.0.0/24"}, gateways: []string{"10.1.0.1", "10.1.0.2"}, err: "cannot configure multiple gateways (10.1.0.1, 10.1.0.2) for the same subnet (10.1.0.0/24)"},
		{subnets: []string{"10.1.0.0/24"}, gateways: []string{"x"}, err: "invalid gateway"},
		{subnets: []string{"10.1.0.0/24"}, ranges: []string{"10.1.0.0/16"}, err: "no matching subnet for range 10.1.0.0/16"},
		{subnets: []string{"10.1.0.0/24"}, ranges: []string{"10.1.0.0/25", "10.1.0.128/25"}, err: "cannot configure multiple ranges"},
		{subnets: []string{"10.1.0.0/24"}, aux: []string{"a=10.2.0.1"}, err: "no matching subnet for aux-address 10.2.0.1"},
		{subnets: []string{"10.1.0.0/24"}, aux: []string{"10.1.0.1"}, err: "expected NAME=IP"},
	} {
		got, err := ipam("default", tc.subnets, tc.ranges, tc.gateways, tc.aux)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ipam(%v %v %v %v): got %v, want an error with %q", tc.subnets, tc.ranges, tc.gateways, tc.aux, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("ipam(%v %v %v %v): %v", tc.subnets, tc.ranges, tc.gateways, tc.aux, err)
		case tc.err == "" && (got.Driver != "default" || !reflect.DeepEqual(got.Config, tc.want)):
			t.Errorf("ipam(%v %v %v %v): got %+v, want %+v", tc.subnets, tc.ranges, tc.gateways, tc.aux, got, tc.want)
		}
	}
}

func TestCreateOptions(t *testing.T) {
	parse := func(args ...string) (client.NetworkCreateOptions, error) {
		var o createFlags
		f := pflag.NewFlagSet("create", pflag.ContinueOnError)
		o.register(f)
		if err := f.Parse(args); err != nil {
			return client.NetworkCreateOptions{}, err
		}
		return o.options(f.Changed)
	}
	got, err := parse("-d", "bridge", "--subnet", "10.5.0.0/24", "--gateway", "10.5.0.1", "--internal",
		"--label", "a=b", "--label", "flag", "-o", "com.docker.network.bridge.name=br5", "--ipv6")
	if err != nil {
		t.Fatal(err)
	}
	want := client.NetworkCreateOptions{Driver: "bridge", Internal: true, EnableIPv6: got.EnableIPv6,
		Labels:  map[string]string{"a": "b", "flag": ""},
		Options: map[string]string{"com.docker.network.bridge.name": "br5"},
		IPAM: &network.IPAM{Driver: "default", Config: []network.IPAMConfig{
			{Subnet: netip.MustParsePrefix("10.5.0.0/24"), Gateway: netip.MustParseAddr("10.5.0.1")}}}}
	if got.EnableIPv6 == nil || !*got.EnableIPv6 || got.EnableIPv4 != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("create options: got %+v, want %+v", got, want)
	}
	if got, err := parse(); err != nil || got.Driver != "bridge" || got.EnableIPv6 != nil || got.IPAM == nil || len(got.IPAM.Config) != 0 {
		t.Errorf("create options without flags: got %+v %v, want the bridge driver and no IPAM configuration", got, err)
	}
	for _, args := range [][]string{{"-o", "novalue"}, {"--label", "=x"}, {"--subnet", "10.0.0.0/99"}, {"--gateway", "10.0.0.1"}} {
		if _, err := parse(args...); err == nil {
			t.Errorf("create %v: got no error, want one", args)
		}
	}
}

func TestConnectEndpoint(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want network.EndpointSettings
		err  string
	}{
		{nil, network.EndpointSettings{}, ""},
		{[]string{"--alias", "db", "--alias", "sql", "--ip", "10.5.0.9"}, network.EndpointSettings{Aliases: []string{"db", "sql"},
			IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: netip.MustParseAddr("10.5.0.9")}}, ""},
		{[]string{"--driver-opt", "k=v", "--gw-priority", "3"}, network.EndpointSettings{DriverOpts: map[string]string{"k": "v"}, GwPriority: 3}, ""},
		{[]string{"--ip", "10.5.0"}, network.EndpointSettings{}, "invalid IPv4 address: 10.5.0"},
		{[]string{"--ip", "fd00::1"}, network.EndpointSettings{}, "invalid IPv4 address"},
		{[]string{"--ip6", "10.0.0.1"}, network.EndpointSettings{}, "invalid IPv6 address"},
	} {
		var o connectFlags
		f := pflag.NewFlagSet("connect", pflag.ContinueOnError)
		o.register(f)
		if err := f.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		got, err := o.endpoint()
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("connect %v: got %v, want an error with %q", tc.args, err, tc.err)
		case tc.err == "" && (err != nil || !reflect.DeepEqual(*got, tc.want)):
			t.Errorf("connect %v: got %+v %v, want %+v", tc.args, got, err, tc.want)
		}
	}
}

func TestWriteNetworks(t *testing.T) {
	id := func(c byte) string { return strings.Repeat(string(c), 64) }
	nets := []network.Summary{
		{Network: network.Network{ID: id('c'), Name: "net10", Driver: "bridge", Scope: "local", EnableIPv4: true, Labels: map[string]string{"b": "2", "a": "1"}}},
		{Network: network.Network{ID: id('a'), Name: "bridge", Driver: "bridge", Scope: "local", EnableIPv4: true}},
		{Network: network.Network{ID: id('d'), Name: "net2", Driver: "bridge", Scope: "local", EnableIPv4: true, Internal: true}},
		{Network: network.Network{ID: id('b'), Name: "host", Driver: "host", Scope: "local"}},
	}
	for _, tc := range []struct {
		format  string
		noTrunc bool
		want    string
	}{
		{"", false, "NETWORK ID     NAME      DRIVER    SCOPE\n" +
			"aaaaaaaaaaaa   bridge    bridge    local\n" +
			"bbbbbbbbbbbb   host      host      local\n" +
			"dddddddddddd   net2      bridge    local\n" +
			"cccccccccccc   net10     bridge    local\n"},
		{"{{.ID}}", false, "aaaaaaaaaaaa\nbbbbbbbbbbbb\ndddddddddddd\ncccccccccccc\n"},
		{"{{.ID}}", true, id('a') + "\n" + id('b') + "\n" + id('d') + "\n" + id('c') + "\n"},
		{"table {{.Name}}\t{{.Internal}}\t{{.IPv4}}\t{{.Labels}}", false, "NAME      INTERNAL   IPV4      LABELS\n" +
			"bridge    false      true      \nhost      false      false     \nnet2      true       true      \nnet10     false      true      a=1,b=2\n"},
		{`{{.Name}}:{{.Label "b"}}`, false, "bridge:\nhost:\nnet2:\nnet10:2\n"},
		{`{{if eq .Name "net10"}}{{json .}}{{end}}`, false, "\n\n\n" + `{"CreatedAt":"0001-01-01 00:00:00 +0000 UTC","Driver":"bridge","ID":"cccccccccccc",` +
			`"IPv4":"true","IPv6":"false","Internal":"false","Labels":"a=1,b=2","Name":"net10","Scope":"local"}` + "\n"},
	} {
		var buf bytes.Buffer
		if err := writeNetworks(command.NewOut(&buf), append([]network.Summary{}, nets...), tc.format, tc.noTrunc); err != nil {
			t.Errorf("format %q: %v", tc.format, err)
			continue
		}
		if got := buf.String(); got != tc.want {
			t.Errorf("format %q: got\n%s\nwant\n%s", tc.format, got, tc.want)
		}
	}
}

func TestNaturalLess(t *testing.T) {
	got := []string{"net10", "net2", "b", "a10b", "a9c", "net02x", "net", "bridge"}
	sort.Slice(got, func(i, j int) bool { return naturalLess(got[i], got[j]) })
	want := []string{"a9c", "a10b", "b", "bridge", "net", "net2", "net02x", "net10"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
