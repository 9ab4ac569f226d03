package cni

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		name, in, err string
		plugins       int
	}{
		{"list", `{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"},{"type":"portmap","capabilities":{"portMappings":true}}]}`, "", 2},
		{"conf", `{"cniVersion":"0.4.0","name":"a","type":"macvlan","master":"eth0"}`, "", 1},
		{"old version default", `{"name":"a","type":"bridge"}`, "", 1},
		{"old chain", `{"cniVersion":"0.2.0","name":"a","plugins":[{"type":"a"},{"type":"b"}]}`, "has no plugin chaining", 0},
		{"bad name", `{"cniVersion":"1.0.0","name":"../x","type":"bridge"}`, "invalid network name", 0},
		{"path type", `{"cniVersion":"1.0.0","name":"a","type":"../../bin/sh"}`, "invalid type", 0},
		{"no type", `{"cniVersion":"1.0.0","name":"a"}`, "neither plugins nor type", 0},
		{"empty", `{"cniVersion":"1.0.0","name":"a","plugins":[]}`, "no plugins", 0},
		{"version", `{"cniVersion":"9.9.9","name":"a","type":"x"}`, "unsupported cniVersion", 0},
		{"not object", `[1]`, "parse cni configuration", 0},
		{"plugin not object", `{"cniVersion":"1.0.0","name":"a","plugins":[1]}`, "plugin 0", 0},
		{"caps", `{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"x","capabilities":3}]}`, "capabilities", 0},
	}
	for _, tc := range tests {
		l, err := ParseList([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(l.Plugins) != tc.plugins {
			t.Errorf("%s: got %d plugins, want %d", tc.name, len(l.Plugins), tc.plugins)
		}
		again, err := ParseList(l.Bytes)
		if err != nil || len(again.Plugins) != tc.plugins || again.Name != l.Name || again.CNIVersion != l.CNIVersion {
			t.Errorf("%s: its document does not parse back the same: %v", tc.name, err)
		}
	}
}

func TestLoadList(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"10-a.conflist":      `{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]}`,
		"20-b.conf":          `{"cniVersion":"1.0.0","name":"b","type":"macvlan"}`,
		"05-a.conf":          `{"cniVersion":"1.0.0","name":"a","type":"ptp"}`,
		"00-broken.conflist": `{`,
		"notes.txt":          `{"cniVersion":"1.0.0","name":"c","type":"x"}`,
	}
	for n, c := range files {
		os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644)
	}
	tests := []struct{ name, typ, err string }{
		{"a", "bridge", ""}, // a conflist wins over a conf
		{"b", "macvlan", ""},
		{"c", "", "not found"},
	}
	for _, tc := range tests {
		l, err := LoadList(dir, tc.name)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || l.Plugins[0].Type != tc.typ {
			t.Errorf("%s: got %v %v, want type %s", tc.name, l, err, tc.typ)
		}
	}
	if _, err := LoadList(filepath.Join(dir, "missing"), "a"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing directory: got %v, want not found", err)
	}
}

func TestParseResult(t *testing.T) {
	tests := []struct {
		name, in, err string
		addrs         []string
		routes        int
	}{
		{"1.0.0", `{"cniVersion":"1.0.0","interfaces":[{"name":"br0"},{"name":"eth0","sandbox":"/n"}],"ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1","interface":1}],"routes":[{"dst":"0.0.0.0/0"}]}`, "", []string{"10.0.0.2/24"}, 1},
		{"0.3.1 version field", `{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.2/24"}]}`, "", []string{"10.0.0.2/24"}, 0},
		{"host interface", `{"interfaces":[{"name":"eth0"}],"ips":[{"address":"10.0.0.2/24","interface":0}]}`, "", nil, 0},
		{"0.2.0", `{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24","gateway":"10.0.0.1","routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}]}}`, "", []string{"10.0.0.2/24"}, 1},
		{"bad index", `{"interfaces":[],"ips":[{"address":"10.0.0.2/24","interface":0}]}`, "names interface 0 of 0", nil, 0},
		{"negative index", `{"interfaces":[{"name":"a"}],"ips":[{"address":"10.0.0.2/24","interface":-1}]}`, "names interface -1", nil, 0},
		{"bad address", `{"ips":[{"address":"10.0.0.2"}]}`, `address "10.0.0.2"`, nil, 0},
		{"bad route", `{"routes":[{"dst":"x"}]}`, `route dst "x"`, nil, 0},
		{"bad gw", `{"routes":[{"dst":"0.0.0.0/0","gw":"y"}]}`, `route gw "y"`, nil, 0},
		{"not json", `nope`, "parse cni result", nil, 0},
	}
	for _, tc := range tests {
		r, err := ParseResult([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []string
		for _, a := range r.Addresses("eth0") {
			got = append(got, a.Address.String())
		}
		if strings.Join(got, ",") != strings.Join(tc.addrs, ",") || len(r.Routes) != tc.routes {
			t.Errorf("%s: got %v and %d routes, want %v and %d", tc.name, got, len(r.Routes), tc.addrs, tc.routes)
		}
	}
}

func TestCacheKey(t *testing.T) {
	if k1, _ := key("a-b", "c", "eth0"); k1 == func() string { k, _ := key("a", "b-c", "eth0"); return k }() {
		t.Errorf("two attachments share the cache file %s", k1)
	}
	for _, bad := range [][3]string{{"../x", "c", "eth0"}, {"n", "../c", "eth0"}, {"n", "c", "../e"}, {"n", "c", ""}, {"n", "c", "averyveryverylongname"}} {
		if _, err := key(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("key %q: got no error", bad)
		}
	}
}
