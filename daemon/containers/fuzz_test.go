package containers

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
)

// FuzzDecodeRecord: a stored record that is damaged gives an error, never
// a panic or a record without its essentials.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"id":"` + strings.Repeat("a", 64) + `","name":"web","config":{"Image":"x"},"host_config":{}}`))
	f.Add([]byte(`{"id":"x"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRecord(data)
		if err == nil && (r.Config == nil || r.HostConfig == nil || !validID(r.ID) || !validName(r.Name)) {
			t.Fatalf("decodeRecord(%q): accepted %+v", data, r)
		}
	})
}

// FuzzReadRecords: a json-file log in any state (torn, hostile, huge
// lines) is read without a panic, and every complete record comes out.
func FuzzReadRecords(f *testing.F) {
	f.Add([]byte(logLine("stdout", "hello\n", 0) + logLine("stderr", "x", 1)))
	f.Add([]byte(`{"log":"torn`))
	f.Add([]byte("\n\n{}\n{\"log\":1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		rest, err := readRecords(bytes.NewReader(data), nil, func(LogEntry) error { n++; return nil })
		if err != nil {
			t.Fatalf("readRecords: %v", err)
		}
		if n > bytes.Count(data, []byte("\n")) {
			t.Fatalf("readRecords: %d records from %d lines", n, bytes.Count(data, []byte("\n")))
		}
		if len(rest) > maxLogLine {
			t.Fatalf("readRecords: kept %d bytes of an unfinished line", len(rest))
		}
	})
}

// FuzzParseDetachKeys: any --detach-keys value parses or is refused.
func FuzzParseDetachKeys(f *testing.F) {
	for _, s := range []string{"ctrl-p,ctrl-q", "a,b", "ctrl-@", "ctrl-", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := parseDetachKeys(s)
		if err == nil && len(keys) == 0 {
			t.Fatalf("parseDetachKeys(%q): no keys and no error", s)
		}
		if err == nil {
			// Input, then the keys: the input goes through, the keys end
			// the copy.
			in := byte('x')
			if keys[0] == in {
				in = 'y'
			}
			var out bytes.Buffer
			err := copyDetach(&out, bytes.NewReader(append([]byte{in}, keys...)), keys)
			if out.String() != string(in) || !errors.Is(err, ErrDetached) {
				t.Fatalf("copyDetach with keys %q: wrote %q, %v", keys, out.String(), err)
			}
		}
	})
}

// FuzzNetFiles: the host's resolv.conf and the --add-host entries, as
// hostile as they come, give files without a panic; nameservers in the
// result are never loopback ones unless the host network is used.
func FuzzNetFiles(f *testing.F) {
	f.Add([]byte("nameserver 127.0.0.53\nsearch x\n"), []byte("nameserver 10.0.0.1\n"), "db:192.0.2.1")
	f.Add([]byte("nameserver ::1\nnameserver fe80::1%eth0\noptions a b\n"), []byte(""), "x:[::1]")
	f.Fuzz(func(t *testing.T, host, upstream []byte, extra string) {
		out := resolvConf(false, host, upstream, &container.HostConfig{})
		servers, _, _, _ := parseResolv(out)
		if len(nonLoopback(servers)) != len(servers) {
			t.Fatalf("resolvConf(%q, %q): loopback resolvers in %q", host, upstream, out)
		}
		hostsFile(false, strings.Split(extra, ","), nil)
	})
}

// FuzzParseSize: log sizes parse or are refused; a parsed size is
// positive or -1.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"10m", "1.5g", "-1", "100", "0", "k", "1e400m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err == nil && n <= 0 && n != -1 {
			t.Fatalf("parseSize(%q): got %d", s, n)
		}
	})
}
