package remote

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
)

// FuzzParseSpec: spec files name where a plugin listens.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte("unix:///run/docker/plugins/x.sock\n"), false)
	f.Add([]byte(`{"Name":"x","Addr":"tcp://127.0.0.1:8080"}`), true)
	f.Fuzz(func(t *testing.T, b []byte, isJSON bool) {
		if bytes.Contains(b, []byte("File")) {
			return // TLS files are read from the disk: not the fuzzer's
		}
		a, err := ParseSpec(b, isJSON)
		if err != nil {
			return
		}
		switch {
		case a.Network == "unix" && filepath.IsAbs(a.Address):
		case a.Network == "tcp" && a.Address != "":
		default:
			t.Fatalf("spec %q accepted as %s %q, want a unix socket's absolute path or a tcp host", b, a.Network, a.Address)
		}
	})
}

// FuzzJoin: a plugin's Join answer becomes a link in a container.
func FuzzJoin(f *testing.F) {
	f.Add([]byte(`{"InterfaceName":{"SrcName":"veth0","DstPrefix":"eth"},"Gateway":"10.0.0.1","StaticRoutes":[{"Destination":"10.1.0.0/16","RouteType":0,"NextHop":"10.0.0.1"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var j JoinResponse
		if json.Unmarshal(b, &j) != nil {
			return
		}
		l, err := LinkOf(&j, 3, true)
		if err != nil {
			return
		}
		if !validIfName(l.Name) || !validIfName(l.SrcName) {
			t.Fatalf("names %q %q accepted", l.Name, l.SrcName)
		}
	})
}
