package portmap

import (
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"

	netsvc "github.com/berth-dev/berth/network"
)

func pb(proto string, ip string, host, end, ctr uint16) netsvc.PortBinding {
	b := netsvc.PortBinding{Proto: proto, HostPort: host, HostPortEnd: end, ContainerPort: ctr}
	if ip != "" {
		b.HostIP = netip.MustParseAddr(ip)
	}
	return b
}

func TestFromDocker(t *testing.T) {
	p := network.MustParsePort
	bind := func(ip, port string) network.PortBinding {
		b := network.PortBinding{HostPort: port}
		if ip != "" {
			b.HostIP = netip.MustParseAddr(ip)
		}
		return b
	}
	tests := []struct {
		name       string
		bindings   network.PortMap
		exposed    network.PortSet
		publishAll bool
		want       []netsvc.PortBinding
	}{
		{"none", nil, nil, false, nil},
		{"-p 8080:80", network.PortMap{p("80/tcp"): {bind("", "8080")}}, nil, false,
			[]netsvc.PortBinding{pb("tcp", "", 8080, 0, 80)}},
		{"-p 80 (free host port)", network.PortMap{p("80"): {bind("", "")}}, nil, false,
			[]netsvc.PortBinding{pb("tcp", "", 0, 0, 80)}},
		{"host port 0", network.PortMap{p("80/tcp"): {bind("", "0")}}, nil, false,
			[]netsvc.PortBinding{pb("tcp", "", 0, 0, 80)}},
		{"-p 127.0.0.1:53:53/udp", network.PortMap{p("53/udp"): {bind("127.0.0.1", "53")}}, nil, false,
			[]netsvc.PortBinding{pb("udp", "127.0.0.1", 53, 0, 53)}},
		{"v4-mapped host IP", network.PortMap{p("53/udp"): {bind("::ffff:127.0.0.1", "53")}}, nil, false,
			[]netsvc.PortBinding{pb("udp", "127.0.0.1", 53, 0, 53)}},
		{"sctp, upper case", network.PortMap{p("9/SCTP"): {bind("", "9")}}, nil, false,
			[]netsvc.PortBinding{pb("sctp", "", 9, 0, 9)}},
		{"two bindings of one port", network.PortMap{p("80/tcp"): {bind("127.0.0.1", "8080"), bind("10.0.0.1", "8080")}}, nil, false,
			[]netsvc.PortBinding{pb("tcp", "10.0.0.1", 8080, 0, 80), pb("tcp", "127.0.0.1", 8080, 0, 80)}},
		{"duplicates folded", network.PortMap{p("80/tcp"): {bind("", "8080"), bind("", "8080")}}, nil, false,
			[]netsvc.PortBinding{pb("tcp", "", 8080, 0, 80)}},
		{"-p 8000-8010:80 (host range)", network.PortMap{p("80/tcp"): {bind("", "8000-8010")}}, nil, false,
			[]netsvc.PortBinding{pb("tcp", "", 8000, 8010, 80)}},
		{"range of one", network.PortMap{p("80/tcp"): {bind("", "8000-8000")}}, nil, false,
			[]netsvc.PortBinding{pb("tcp", "", 8000, 0, 80)}},
		// The CLI expands -p 8000-8002:80-82 into one key per port.
		{"-p 8000-8002:80-82", network.PortMap{
			p("80/tcp"): {bind("", "8000")}, p("81/tcp"): {bind("", "8001")}, p("82/tcp"): {bind("", "8002")}}, nil, false,
			[]netsvc.PortBinding{pb("tcp", "", 8000, 0, 80), pb("tcp", "", 8001, 0, 81), pb("tcp", "", 8002, 0, 82)}},
		{"-P", network.PortMap{p("80/tcp"): {bind("", "8080")}},
			network.PortSet{p("80/tcp"): {}, p("443/tcp"): {}, p("53/udp"): {}}, true,
			[]netsvc.PortBinding{pb("udp", "", 0, 0, 53), pb("tcp", "", 8080, 0, 80), pb("tcp", "", 0, 0, 443)}},
		{"exposed without -P", nil, network.PortSet{p("80/tcp"): {}}, false, nil},
		{"empty binding list", network.PortMap{p("80/tcp"): {}}, nil, false, nil},
	}
	for _, tt := range tests {
		got, err := FromDocker(tt.bindings, tt.exposed, tt.publishAll)
		if err != nil {
			t.Errorf("%s: got error %v", tt.name, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestFromDockerInvalid(t *testing.T) {
	zero := network.Port{}
	p0, _ := network.PortFrom(0, network.TCP)
	pFoo, _ := network.PortFrom(80, "foo")
	tests := []struct {
		port     network.Port
		hostPort string
		want     string
	}{
		{network.MustParsePort("80/tcp"), "abc", `invalid port specification: "abc"`},
		{network.MustParsePort("80/tcp"), "70000", `invalid port specification: "70000"`},
		{network.MustParsePort("80/tcp"), "-1", `invalid port specification: "-1"`},
		{network.MustParsePort("80/tcp"), "+80", `invalid port specification: "+80"`},
		{network.MustParsePort("80/tcp"), "8010-8000", `invalid port specification: "8010-8000"`},
		{network.MustParsePort("80/tcp"), "8000-", `invalid port specification: "8000-"`},
		{network.MustParsePort("80/tcp"), "0-10", `invalid port specification: "0-10"`},
		{network.MustParsePort("80/tcp"), "1-2-3", `invalid port specification: "1-2-3"`},
		{network.MustParsePort("80/tcp"), " 80", `invalid port specification: " 80"`},
		{zero, "80", `invalid port specification: "invalid port"`},
		{p0, "80", `invalid port specification: "0/tcp"`},
		{pFoo, "80", `invalid port specification: "80/foo"`},
	}
	for _, tt := range tests {
		_, err := FromDocker(network.PortMap{tt.port: {{HostPort: tt.hostPort}}}, nil, false)
		if err == nil || err.Error() != tt.want || !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%v %q: got %v, want %s (invalid argument)", tt.port, tt.hostPort, err, tt.want)
		}
	}
	_, err := FromDocker(nil, network.PortSet{pFoo: {}}, true)
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("-P with exposed 80/foo: got %v, want invalid argument", err)
	}
}

// FuzzFromDocker feeds FromDocker what the API decodes from a container's
// JSON (HostConfig.PortBindings, Config.ExposedPorts, PublishAllPorts):
// no panic, and every result is a usable binding.
func FuzzFromDocker(f *testing.F) {
	f.Add([]byte(`{"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var in struct {
			PortBindings    network.PortMap
			ExposedPorts    network.PortSet
			PublishAllPorts bool
		}
		if json.Unmarshal(data, &in) != nil {
			return
		}
		got, err := FromDocker(in.PortBindings, in.ExposedPorts, in.PublishAllPorts)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("got error %v, want an invalid argument", err)
			}
			return
		}
		for _, b := range got {
			if b.ContainerPort == 0 || (b.Proto != "tcp" && b.Proto != "udp" && b.Proto != "sctp") ||
				(b.HostPortEnd != 0 && (b.HostPort == 0 || b.HostPortEnd <= b.HostPort)) || b.HostIP.Is4In6() {
				t.Fatalf("got binding %+v from %s", b, data)
			}
		}
	})
}
