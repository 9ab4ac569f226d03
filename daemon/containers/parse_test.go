package containers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/moby/moby/api/types/container"
)

func TestNames(t *testing.T) {
	for name, want := range map[string]bool{
		"web": true, "a1": true, "my_app.v2-x": true, "a": false, "_x": false, "-x": false, ".x": false,
		"bad name": false, "x/y": false, "": false, strings.Repeat("a", 256): false, "Ünicode": false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q): got %v, want %v", name, got, want)
		}
	}
	if n, err := checkName("/web"); err != nil || n != "web" {
		t.Errorf("checkName(/web): got %q, %v", n, err)
	}
	if _, err := checkName("bad name!"); err == nil || err.Error() != "Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed" {
		t.Errorf("checkName(bad name!): got %v", err)
	}
	taken := map[string]bool{}
	for range 50 {
		id, err := newID(func(s string) bool { return taken[s] })
		if err != nil || !validID(id) || taken[id[:shortLen]] || strings.Trim(id[:shortLen], "0123456789") == "" {
			t.Fatalf("newID: got %q, %v", id, err)
		}
		taken[id[:shortLen]] = true
	}
	if _, err := newID(func(string) bool { return true }); err == nil {
		t.Errorf("newID with every short ID taken: no error")
	}
	n, err := randomName(func(string) bool { return false })
	if a, s, ok := strings.Cut(n, "_"); err != nil || !ok || a == "" || s == "" || !validName(n) {
		t.Errorf("randomName: got %q, %v", n, err)
	}
}

func TestResolvConf(t *testing.T) {
	stub := []byte("# managed\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch example.org\n")
	upstream := []byte("nameserver 10.0.0.1\nnameserver ::1\nnameserver 10.0.0.2\n")
	mixed := []byte("nameserver 127.0.0.1\nnameserver 192.0.2.1\n")
	cases := []struct {
		name     string
		host     bool
		data, up []byte
		hc       container.HostConfig
		want     string
	}{
		{"stub replaced by upstream", false, stub, upstream, container.HostConfig{},
			"nameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch example.org\noptions edns0 trust-ad\n"},
		{"stub without upstream: left out", false, stub, nil, container.HostConfig{},
			"search example.org\noptions edns0 trust-ad\n"},
		{"loopback dropped, others kept", false, mixed, upstream, container.HostConfig{}, "nameserver 192.0.2.1\n"},
		{"host network: as it is", true, stub, upstream, container.HostConfig{}, string(stub)},
		{"dns options", false, stub, upstream, container.HostConfig{
			DNS: []netip.Addr{netip.MustParseAddr("9.9.9.9")}, DNSSearch: []string{"a.test", "b.test"}, DNSOptions: []string{"ndots:2"}},
			"nameserver 9.9.9.9\nsearch a.test b.test\noptions ndots:2\n"},
		{"dns search '.' clears", false, mixed, nil, container.HostConfig{DNSSearch: []string{"."}}, "nameserver 192.0.2.1\n"},
		{"empty host file", false, nil, nil, container.HostConfig{}, ""},
	}
	for _, c := range cases {
		if got := string(resolvConf(c.host, c.data, c.up, &c.hc)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestHostsFile(t *testing.T) {
	got, err := hostsFile(false, []string{"db:192.0.2.7", "v6:[2001:db8::1]", "eq=198.51.100.1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"127.0.0.1\tlocalhost\n", "::1\tlocalhost ip6-localhost ip6-loopback\n", "192.0.2.7\tdb\n", "2001:db8::1\tv6\n", "198.51.100.1\teq\n"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("hosts: got %q, want a line %q", got, want)
		}
	}
	host, _ := hostsFile(true, nil, []byte("10.1.1.1 myhost"))
	if string(host) != "10.1.1.1 myhost\n" {
		t.Errorf("hosts with host network: got %q", host)
	}
	for _, bad := range []string{"nocolon", ":1.2.3.4", "x:notanip", "x:host-gateway", "a b:1.2.3.4"} {
		if _, err := hostsFile(false, []string{bad}, nil); err == nil {
			t.Errorf("extra host %q: no error", bad)
		}
	}
}

func TestPolicy(t *testing.T) {
	always := container.RestartPolicy{Name: container.RestartPolicyAlways}
	unless := container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}
	onFail2 := container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 2}
	onFail := container.RestartPolicy{Name: container.RestartPolicyOnFailure}
	no := container.RestartPolicy{Name: container.RestartPolicyDisabled}
	cases := []struct {
		p              container.RestartPolicy
		code, restarts int
		stopped, want  bool
	}{
		{always, 0, 5, false, true}, {always, 1, 0, true, false}, {unless, 0, 0, false, true},
		{onFail2, 1, 0, false, true}, {onFail2, 1, 2, false, false}, {onFail2, 0, 0, false, false},
		{onFail, 137, 100, false, true}, {no, 1, 0, false, false},
	}
	for _, c := range cases {
		if got := shouldRestart(c.p, c.code, c.restarts, c.stopped); got != c.want {
			t.Errorf("shouldRestart(%v, code %d, restarts %d, stopped %v): got %v, want %v", c.p, c.code, c.restarts, c.stopped, got, c.want)
		}
	}
	if !restartsAtBoot(unless, false) || restartsAtBoot(unless, true) || restartsAtBoot(onFail, false) {
		t.Errorf("restartsAtBoot: wrong")
	}
	seq := []time.Duration{}
	var b time.Duration
	for range 12 {
		b = nextBackoff(b, time.Second)
		seq = append(seq, b)
	}
	if seq[0] != minBackoff || seq[1] != 2*minBackoff || seq[11] != maxBackoff {
		t.Errorf("backoff: got %v", seq)
	}
	if got := nextBackoff(time.Minute, resetAfter); got != minBackoff {
		t.Errorf("backoff after a long run: got %v, want %v", got, minBackoff)
	}
	hc := &container.HostConfig{}
	if err := checkRestartPolicy(hc); err != nil || hc.RestartPolicy.Name != "no" {
		t.Errorf("empty policy: got %v, %q", err, hc.RestartPolicy.Name)
	}
}

func TestLogRotation(t *testing.T) {
	cases := []struct {
		cfg   map[string]string
		size  int64
		files int
		bad   bool
	}{
		{nil, 10 << 20, 3, false},
		{map[string]string{"max-size": "1k", "max-file": "5"}, 1024, 5, false},
		{map[string]string{"max-size": "2m"}, 2 << 20, 3, false},
		{map[string]string{"max-size": "1.5g"}, 3 << 29, 3, false},
		{map[string]string{"max-size": "-1"}, -1, 3, false},
		{map[string]string{"max-size": "100"}, 100, 3, false},
		{map[string]string{"max-size": "0"}, 0, 0, true},
		{map[string]string{"max-size": "big"}, 0, 0, true},
		{map[string]string{"max-file": "0"}, 0, 0, true},
		{map[string]string{"color": "blue"}, 0, 0, true},
		{map[string]string{"mode": "non-blocking"}, 10 << 20, 3, false},
	}
	for _, c := range cases {
		size, files, err := logRotation(container.LogConfig{Config: c.cfg}, 10<<20, 3)
		if c.bad != (err != nil) || !c.bad && (size != c.size || files != c.files) {
			t.Errorf("logRotation(%v): got %d, %d, %v; want %d, %d, error %v", c.cfg, size, files, err, c.size, c.files, c.bad)
		}
	}
	if _, _, err := logRotation(container.LogConfig{Type: "journald"}, 1, 1); err == nil {
		t.Errorf("journald: no error")
	}
}

func TestStatusText(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	cases := []struct {
		st   state
		want string
	}{
		{state{Status: container.StateRunning, StartedAt: ago(300 * time.Millisecond)}, "Up Less than a second"},
		{state{Status: container.StateRunning, StartedAt: ago(time.Second)}, "Up 1 second"},
		{state{Status: container.StateRunning, StartedAt: ago(59 * time.Second)}, "Up 59 seconds"},
		{state{Status: container.StatePaused, StartedAt: ago(90 * time.Second)}, "Up About a minute (Paused)"},
		{state{Status: container.StateExited, ExitCode: 3, FinishedAt: ago(5 * time.Minute)}, "Exited (3) 5 minutes ago"},
		{state{Status: container.StateExited, ExitCode: 0, FinishedAt: ago(time.Hour)}, "Exited (0) About an hour ago"},
		{state{Status: container.StateExited, FinishedAt: ago(30 * time.Hour)}, "Exited (0) 30 hours ago"},
		{state{Status: container.StateExited, FinishedAt: ago(72 * time.Hour)}, "Exited (0) 3 days ago"},
		{state{Status: container.StateExited, FinishedAt: ago(20 * 24 * time.Hour)}, "Exited (0) 2 weeks ago"},
		{state{Status: container.StateExited, FinishedAt: ago(90 * 24 * time.Hour)}, "Exited (0) 3 months ago"},
		{state{Status: container.StateExited, FinishedAt: ago(800 * 24 * time.Hour)}, "Exited (0) 2 years ago"},
		{state{Status: container.StateRestarting, ExitCode: 1, FinishedAt: ago(2 * time.Second)}, "Restarting (1) 2 seconds ago"},
		{state{Status: container.StateCreated}, "Created"},
		{state{Status: container.StateExited}, ""},
	}
	for _, c := range cases {
		if got := statusText(c.st, now); got != c.want {
			t.Errorf("statusText(%+v): got %q, want %q", c.st, got, c.want)
		}
	}
}

func TestDetachKeys(t *testing.T) {
	for in, want := range map[string][]byte{
		"": {16, 17}, "ctrl-p,ctrl-q": {16, 17}, "ctrl-a": {1}, "a,b": {'a', 'b'}, "ctrl-@": {0}, "ctrl-[": {27}, "ctrl-_": {31},
	} {
		got, err := parseDetachKeys(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("parseDetachKeys(%q): got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"ctrl-", "ctrl-1", "ab", "ctrl-p,,", "shift-a"} {
		if _, err := parseDetachKeys(bad); err == nil {
			t.Errorf("parseDetachKeys(%q): no error", bad)
		}
	}
	keys := []byte{16, 17}
	cases := []struct {
		in       string
		want     string
		detached bool
	}{
		{"hello", "hello", false},
		{"ab\x10\x11cd", "ab", true},
		{"a\x10b\x10\x11", "a\x10b", true},
		{"a\x10", "a", false}, // the start of a sequence is held back until it breaks off
		{"\x10\x10\x11", "\x10", true},
	}
	for _, c := range cases {
		var out bytes.Buffer
		err := copyDetach(&out, iotest.OneByteReader(strings.NewReader(c.in)), keys)
		got := out.String()
		if got != c.want || errors.Is(err, ErrDetached) != c.detached {
			t.Errorf("copyDetach(%q): got %q, %v; want %q, detached %v", c.in, got, err, c.want, c.detached)
		}
	}
}

func TestOutputFilter(t *testing.T) {
	frame := func(stream byte, s string) []byte {
		b := make([]byte, 8+len(s))
		b[0] = stream
		binary.BigEndian.PutUint32(b[4:], uint32(len(s)))
		copy(b[8:], s)
		return b
	}
	in := append(append(frame(1, "out\n"), frame(2, "err\n")...), frame(1, "more\n")...)
	var got bytes.Buffer
	f := &outputFilter{w: &got, stdout: true}
	if err := f.copyFrom(bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if want := append(frame(1, "out\n"), frame(1, "more\n")...); !bytes.Equal(got.Bytes(), want) {
		t.Errorf("stdout only: got %q, want %q", got.Bytes(), want)
	}
	got.Reset()
	f = &outputFilter{w: &got, tty: true, stdout: true}
	f.copyFrom(strings.NewReader("raw\r\n"))
	if got.String() != "raw\r\n" {
		t.Errorf("tty: got %q", got.String())
	}
	got.Reset()
	f = &outputFilter{w: &got, stdout: true, stderr: true}
	if err := f.copyFrom(bytes.NewReader([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})); err == nil {
		t.Errorf("a frame of 4 GiB: no error")
	}
}

func TestParsePS(t *testing.T) {
	out := "UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 12:00 ? 00:00:00 sh -c sleep 5\n\nroot 11 10 0 12:00 ? 00:00:00 sleep\n"
	got, err := parsePS(out)
	if err != nil || len(got.Titles) != 8 || len(got.Processes) != 2 || got.Processes[0][7] != "sh -c sleep 5" || got.Processes[1][7] != "sleep" {
		t.Errorf("parsePS: got %+v, %v", got, err)
	}
	if _, err := parsePS(""); err == nil {
		t.Errorf("parsePS of nothing: no error")
	}
}

func TestParseNetDev(t *testing.T) {
	data := "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
		"    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n" +
		"  eth0:    1500      10    1    2    0     0          0         0      700       5    3    4    0     0       0          0\n"
	got := parseNetDev(data)
	want := container.NetworkStats{RxBytes: 1500, RxPackets: 10, RxErrors: 1, RxDropped: 2, TxBytes: 700, TxPackets: 5, TxErrors: 3, TxDropped: 4}
	if len(got) != 1 || got["eth0"] != want {
		t.Errorf("parseNetDev: got %+v, want eth0 only: %+v", got, want)
	}
	if got := parseNetDev("garbage"); len(got) != 0 {
		t.Errorf("parseNetDev(garbage): got %v", got)
	}
}
