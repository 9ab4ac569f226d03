package cni

import "testing"

// FuzzParseList: configuration files are the administrator's, but a
// broken one must give an error, never a panic.
func FuzzParseList(f *testing.F) {
	f.Add([]byte(`{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge","ipam":{"type":"host-local"}}]}`))
	f.Add([]byte(`{"cniVersion":"0.4.0","name":"a","type":"macvlan"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseList(b)
		if err != nil {
			return
		}
		if _, err := ParseList(l.Bytes); err != nil {
			t.Fatalf("document of a parsed list does not parse: %v", err)
		}
	})
}

// FuzzParseResult: plugins' answers are decoded from their stdout.
func FuzzParseResult(f *testing.F) {
	f.Add([]byte(`{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/n"}],"ips":[{"address":"10.0.0.2/24","interface":0}]}`))
	f.Add([]byte(`{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResult(b)
		if err != nil {
			return
		}
		r.Addresses("eth0")
		r.Nameservers()
		r.MAC("eth0")
	})
}
