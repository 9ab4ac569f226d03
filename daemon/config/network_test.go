package config

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/spf13/pflag"
)

func TestNetworkKeys(t *testing.T) {
	cases := []struct {
		name, json string
		check      func(*Config) bool
		err        string
	}{
		{"defaults", `{}`, func(c *Config) bool {
			return c.IPTables && c.IPForward && c.ICC && c.Bridge == "" && !c.BridgeDisabled()
		}, ""},
		{"keys", `{"bridge":"br9","bip":"10.9.0.1/24","mtu":1400,"iptables":false,"ip-forward":false,"icc":false,"default-address-pools":[{"base":"10.20.0.0/16","size":24}]}`,
			func(c *Config) bool {
				pools, _ := c.AddressPools()
				bip, _ := c.DefaultBridgeAddr()
				return c.Bridge == "br9" && bip == netip.MustParsePrefix("10.9.0.1/24") && c.MTU == 1400 && !c.IPTables && !c.IPForward && !c.ICC &&
					reflect.DeepEqual(pools, []Pool{{netip.MustParsePrefix("10.20.0.0/16"), 24}})
			}, ""},
		{"none", `{"bridge":"none"}`, func(c *Config) bool { return c.BridgeDisabled() }, ""},
		{"bip not a prefix", `{"bip":"10.9.0.1"}`, nil, `bip "10.9.0.1"`},
		{"bip network address", `{"bip":"10.9.0.0/24"}`, nil, "the network's own"},
		{"bip ipv6", `{"bip":"fd00::1/64"}`, nil, "IPv4"},
		{"bip with none", `{"bip":"10.9.0.1/24","bridge":"none"}`, nil, "exclusive"},
		{"bridge name too long", `{"bridge":"abcdefghijklmnop"}`, nil, "not a valid interface name"},
		{"bridge name slash", `{"bridge":"a/b"}`, nil, "not a valid interface name"},
		{"mtu small", `{"mtu":20}`, nil, "mtu 20"},
		{"pool size below base", `{"default-address-pools":[{"base":"10.0.0.0/16","size":8}]}`, nil, "size 8"},
		{"pool bad base", `{"default-address-pools":[{"base":"ten","size":24}]}`, nil, `base "ten"`},
	}
	for _, c := range cases {
		cfg := Default()
		err := Decode(cfg, []byte(c.json))
		if err == nil {
			err = cfg.Validate()
		}
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%s: got %v, want an invalid-argument error with %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || !c.check(cfg) {
			t.Errorf("%s: got %+v, %v", c.name, cfg, err)
		}
	}
}

func TestNetworkFlags(t *testing.T) {
	fs := pflag.NewFlagSet("berthd", pflag.ContinueOnError)
	f := NewFlags(fs)
	if err := fs.Parse([]string{"-b", "none", "--iptables=false", "--default-address-pool", "base=10.30.0.0/16,size=26", "--mtu", "9000"}); err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	if err := Decode(cfg, []byte(`{"bridge":"br0","icc":false,"default-address-pools":[{"base":"10.1.0.0/16","size":24}]}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	want := []AddressPool{{Base: "10.30.0.0/16", Size: 26}}
	if cfg.Bridge != "none" || cfg.IPTables || cfg.ICC || !cfg.IPForward || cfg.MTU != 9000 || !reflect.DeepEqual(cfg.DefaultAddressPools, want) {
		t.Errorf("got bridge %q iptables %v icc %v ip-forward %v mtu %d pools %v, want none false false true 9000 %v",
			cfg.Bridge, cfg.IPTables, cfg.ICC, cfg.IPForward, cfg.MTU, cfg.DefaultAddressPools, want)
	}
	for _, bad := range []string{"base=10.0.0.0/8,size=x", "base=10.0.0.0/8,bits=24"} {
		fs := pflag.NewFlagSet("berthd", pflag.ContinueOnError)
		f := NewFlags(fs)
		fs.Parse([]string{"--default-address-pool", bad})
		if err := f.Apply(Default()); err == nil {
			t.Errorf("--default-address-pool %s: got nil, want an error", bad)
		}
	}
}
