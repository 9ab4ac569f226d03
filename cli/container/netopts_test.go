package container

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"
)

func TestNetworkFlags(t *testing.T) {
	ip := func(s string) *network.EndpointIPAMConfig {
		return &network.EndpointIPAMConfig{IPv4Address: netip.MustParseAddr(s)}
	}
	mac := network.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0x00, 0x09}
	type eps = map[string]*network.EndpointSettings
	for _, tc := range []struct {
		args []string
		mode container.NetworkMode
		want eps
		err  string
	}{
		{nil, "", eps{}, ""},
		{[]string{"--network", "host"}, "host", eps{}, ""},
		{[]string{"--net", "none"}, "none", eps{}, ""},
		{[]string{"--network", "web"}, "web", eps{}, ""},
		{[]string{"--network", "web", "--network-alias", "db", "--ip", "10.5.0.9", "--mac-address", "02:42:ac:11:00:09"}, "web",
			eps{"web": {Aliases: []string{"db"}, IPAMConfig: ip("10.5.0.9"), MacAddress: mac}}, ""},
		{[]string{"--network", "web", "--network", "back"}, "web", eps{"web": {}, "back": {}}, ""},
		{[]string{"--network", "web", "--network", "back", "--network-alias", "x"}, "web",
			eps{"web": {Aliases: []string{"x"}}, "back": {}}, ""},
		{[]string{"--network", "name=web,alias=a,alias=b,ip=10.5.0.9,driver-opt=k=v,gw-priority=2", "--network", "name=back,alias=c"}, "web",
			eps{"web": {Aliases: []string{"a", "b"}, IPAMConfig: ip("10.5.0.9"), DriverOpts: map[string]string{"k": "v"}, GwPriority: 2},
				"back": {Aliases: []string{"c"}}}, ""},
		{[]string{"--ip", "172.17.0.9"}, "", eps{"default": {IPAMConfig: ip("172.17.0.9")}}, ""},
		{[]string{"--network", "web", "--network", "web"}, "", nil, `network "web" is specified multiple times`},
		{[]string{"--network", "bridge", "--network", "web"}, "", nil, "cannot attach both user-defined and non-user-defined"},
		{[]string{"--network", "name=web,alias=a", "--network-alias", "b"}, "", nil, "cannot specify both --network-alias and per-network alias"},
		{[]string{"--network", "name=web,ip=10.0.0.2", "--ip", "10.0.0.3"}, "", nil, "cannot specify both --ip/--ip6"},
		{[]string{"--network", "name=web,colour=red"}, "", nil, "invalid field key colour"},
		{[]string{"--network", "alias=a"}, "", nil, "network name not specified"},
		{[]string{"--network", "name=web,mac-address=zz"}, "", nil, "zz is not a valid mac address"},
		{[]string{"--mac-address", "02:42"}, "", nil, "02:42 is not a valid mac address"},
		{[]string{"--ip", "300.1.1.1"}, "", nil, "invalid IPv4 address: 300.1.1.1"},
		{[]string{"--network", "name=web,gw-priority=x"}, "", nil, "invalid gw-priority"},
	} {
		var o networkFlags
		f := pflag.NewFlagSet("run", pflag.ContinueOnError)
		o.register(f)
		if err := f.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		mode, got, err := o.parse()
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: got %v, want an error with %q", tc.args, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.err == "" && (mode != tc.mode || !reflect.DeepEqual(got, tc.want)):
			t.Errorf("%v: got %q %v, want %q %v", tc.args, mode, got, tc.mode, tc.want)
		}
	}
}

func TestExtraHosts(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
		err  string
	}{
		{nil, nil, ""},
		{[]string{"db:10.0.0.2", "gw=host-gateway", "v6=::1", "v6b:[fd00::2]"}, []string{"db:10.0.0.2", "gw:host-gateway", "v6:::1", "v6b:[fd00::2]"}, ""},
		{[]string{"nohost"}, nil, "bad format for add-host"},
		{[]string{":10.0.0.2"}, nil, "bad format for add-host"},
		{[]string{"db:300.0.0.1"}, nil, "invalid IP address in add-host"},
	} {
		got, err := extraHosts(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: got %v, want an error with %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || !reflect.DeepEqual(got, tc.want)):
			t.Errorf("%v: got %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}
