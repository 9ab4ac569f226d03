package dns

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestResolvConf(t *testing.T) {
	gw := []netip.Addr{netip.MustParseAddr("172.18.0.1")}
	host := "# generated\nnameserver 10.0.0.2\nsearch corp.example lab.example\noptions edns0 rotate\nsortlist 10.0.0.0/8\n"
	tests := []struct {
		name            string
		host            string
		search, options []string
		want            string
	}{
		{"host's search and options", host, nil, nil,
			"sortlist 10.0.0.0/8\nnameserver 172.18.0.1\nsearch corp.example lab.example\noptions edns0 rotate ndots:0\n"},
		{"dns-search and dns-option", host, []string{"a.example"}, []string{"ndots:2"},
			"sortlist 10.0.0.0/8\nnameserver 172.18.0.1\nsearch a.example\noptions ndots:2\n"},
		{"dns-search dot", host, []string{"."}, nil,
			"sortlist 10.0.0.0/8\nnameserver 172.18.0.1\noptions edns0 rotate ndots:0\n"},
		{"empty host file", "", nil, nil, "nameserver 172.18.0.1\noptions ndots:0\n"},
		{"domain line, host ndots", "domain d.example\noptions ndots:3\n", nil, nil,
			"nameserver 172.18.0.1\nsearch d.example\noptions ndots:3\n"},
	}
	for _, tt := range tests {
		got := string(ResolvConf([]byte(tt.host), gw, tt.search, tt.options))
		if got != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

func TestUpstreams(t *testing.T) {
	tests := []struct {
		name, host, systemd string
		want                string
	}{
		{"host's", "nameserver 10.0.0.2\nnameserver 10.0.0.3\n", "", "[10.0.0.2:53 10.0.0.3:53]"},
		{"loopback dropped", "nameserver 127.0.0.1\nnameserver 10.0.0.2\n", "", "[10.0.0.2:53]"},
		{"systemd-resolved's", "nameserver 127.0.0.53\n", "nameserver 192.0.2.1\n", "[192.0.2.1:53]"},
		{"loopback after all", "nameserver 127.0.0.1\n", "", "[127.0.0.1:53]"},
		{"ipv6 with zone", "nameserver fe80::1%eth0\n", "", "[[fe80::1%eth0]:53]"},
		{"junk", "nameserver\nnameserver x\n#nameserver 10.0.0.9\n", "", "[]"},
	}
	for _, tt := range tests {
		got := fmt.Sprint(Upstreams([]byte(tt.host), []byte(tt.systemd)))
		if got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}
