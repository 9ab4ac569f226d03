package network_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPublishedPorts: TCP and UDP ports published on every address and
// on 127.0.0.1 answer from the external host, from berthd's namespace
// (its external address and 127.0.0.1), from another container and from
// the container itself (hairpin); docker port, ps and inspect show them.
func TestPublishedPorts(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	id := d.OK("run", "-d", "--name", "srv", "-p", "8080:7000", "-p", "8081:7001/udp", "-p", "127.0.0.1:8082:7000",
		"--expose", "9000", d.Image, "probe", "serve", "7000", "7001")
	short := id[:12]
	ext := extHost.Addr().String()
	srvIP := d.ctrNet("srv").NetworkSettings.Networks["bridge"].IPAddress

	cases := []struct {
		name, from, proto, addr string
		sees                    string // the client address the server must see ("" any)
	}{
		{"outside tcp", "outside", "tcp", ext + ":8080", extOutside.Addr().String()},
		{"outside udp", "outside", "udp", ext + ":8081", extOutside.Addr().String()},
		{"host external tcp", "host", "tcp", ext + ":8080", ""},
		{"host loopback tcp", "host", "tcp", "127.0.0.1:8080", ""},
		{"host loopback udp", "host", "udp", "127.0.0.1:8081", ""},
		{"host loopback only", "host", "tcp", "127.0.0.1:8082", ""},
	}
	for _, c := range cases {
		ns := d.NS
		if c.from == "outside" {
			ns = d.Outside
		}
		got, err := dialFrom(ns, c.proto, c.addr, 5*time.Second)
		if err != nil || !strings.HasPrefix(got, short+" FROM=") {
			t.Errorf("%s: %s %s: got %q, %v; want an answer from %s", c.name, c.proto, c.addr, got, err, short)
			continue
		}
		if c.sees != "" && !strings.Contains(got, "FROM="+c.sees+":") {
			t.Errorf("%s: the server saw %q, want %s (no masquerade from outside)", c.name, got, c.sees)
		}
	}
	// 127.0.0.1:8082 is not published on the external address.
	if got, err := dialFrom(d.Outside, "tcp", ext+":8082", 0); err == nil {
		t.Errorf("port published on 127.0.0.1 answered from outside: %q", got)
	}

	// Another container, to the host's address, and the container itself
	// (hairpin).
	d.OK("run", "-d", "--name", "cli", d.Image, "sleep", "600")
	for _, who := range []string{"cli", "srv"} {
		for _, target := range []string{"tcp " + ext + ":8080", "udp " + ext + ":8081", "tcp 172.17.0.1:8080"} {
			args := append([]string{"exec", who, "probe", "dial"}, strings.Fields(target)...)
			if r := d.Docker(args...); r.Code != 0 || !strings.HasPrefix(r.Stdout, short+" FROM=") {
				t.Errorf("from container %s to %s: %q %q, want an answer from %s", who, target, r.Stdout, r.Stderr, short)
			}
		}
	}
	// And the container's own address, directly.
	if r := d.Docker("exec", "cli", "probe", "dial", "tcp", srvIP+":7000"); r.Code != 0 {
		t.Errorf("container to container by address: %s", r.Stderr)
	}

	// docker port, ps, inspect.
	port := d.OK("port", "srv")
	for _, want := range []string{"7000/tcp -> 0.0.0.0:8080", "7000/tcp -> 127.0.0.1:8082", "7001/udp -> 0.0.0.0:8081"} {
		if !strings.Contains(port, want) {
			t.Errorf("docker port: lacks %q:\n%s", want, port)
		}
	}
	if got := d.OK("port", "srv", "7001/udp"); got != "0.0.0.0:8081" {
		t.Errorf("docker port srv 7001/udp: got %q, want 0.0.0.0:8081", got)
	}
	ps := d.OK("ps", "--filter", "name=srv", "--format", "{{.Ports}}")
	for _, want := range []string{"0.0.0.0:8080->7000/tcp", "127.0.0.1:8082->7000/tcp", "0.0.0.0:8081->7001/udp", "9000/tcp"} {
		if !strings.Contains(ps, want) {
			t.Errorf("ps PORTS: %q lacks %q", ps, want)
		}
	}
	for _, f := range []string{"publish=8080", "publish=8081/udp", "expose=9000", "expose=7000-7001/tcp"} {
		if got := d.OK("ps", "--filter", f, "--format", "{{.Names}}"); got != "srv" {
			t.Errorf("ps --filter %s: got %q, want srv", f, got)
		}
	}
	if got := d.OK("ps", "--filter", "publish=8081", "--format", "{{.Names}}"); got != "" {
		t.Errorf("ps --filter publish=8081 (tcp): got %q, want none", got)
	}
	ports := d.ctrNet("srv").NetworkSettings.Ports
	if b, ok := ports["9000/tcp"]; !ok || b != nil {
		t.Errorf("inspect Ports[9000/tcp]: got %v (present %v), want null", b, ok)
	}
	if b := ports["7000/tcp"]; len(b) != 2 {
		t.Errorf("inspect Ports[7000/tcp]: got %v, want two bindings", b)
	}
}

// TestPublishAll: -P publishes every exposed port on a free host port.
func TestPublishAll(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	id := d.OK("run", "-d", "--name", "srv", "-P", "--expose", "7000", "--expose", "7001/udp", d.Image, "probe", "serve", "7000", "7001")
	for _, c := range []struct{ proto, port string }{{"tcp", "7000/tcp"}, {"udp", "7001/udp"}} {
		hp := d.OK("port", "srv", c.port)
		_, p, ok := strings.Cut(hp, ":")
		n, err := strconv.Atoi(p)
		if !ok || err != nil || n < 1024 {
			t.Errorf("docker port srv %s: got %q, want 0.0.0.0:<a free port>", c.port, hp)
			continue
		}
		got, err := dialFrom(d.Outside, c.proto, fmt.Sprintf("%s:%d", extHost.Addr(), n), 5*time.Second)
		if err != nil || !strings.HasPrefix(got, id[:12]) {
			t.Errorf("-P %s on host port %d: got %q, %v", c.port, n, got, err)
		}
	}
}

// TestPortInUse: a host port another program holds is a clear error at
// start, and the failed start leaves no veth, rule or lease; the
// container stays created.
func TestPortInUse(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	held := listenIn(t, d.NS, "0.0.0.0:0")
	port := strconv.Itoa(held.Port())
	stderr := d.Fail("run", "-d", "--name", "late", "-p", port+":7000", d.Image, "probe", "serve", "7000")
	if !strings.Contains(stderr, "0.0.0.0:"+port) || !strings.Contains(stderr, "already") {
		t.Errorf("docker run on a port in use: stderr %q, want the address and \"already allocated\"/\"in use\"", stderr)
	}
	if left := d.Leftovers(); len(left) > 0 {
		t.Errorf("after the failed start: %v", left)
	}
	if st := d.OK("inspect", "-f", "{{.State.Status}}", "late"); st != "created" {
		t.Errorf("state after the failed start: %s, want created", st)
	}
	// Two containers asking for one port: the second is refused.
	d.OK("run", "-d", "--name", "first", "-p", "8300:7000", d.Image, "probe", "serve", "7000")
	if stderr := d.Fail("run", "-d", "--name", "second", "-p", "8300:7000", d.Image, "probe", "serve", "7000"); !strings.Contains(stderr, "8300") {
		t.Errorf("second container on port 8300: stderr %q, want the port named", stderr)
	}
	if got, err := dialFrom(d.Outside, "tcp", extHost.Addr().String()+":8300", 5*time.Second); err != nil || !strings.Contains(got, "FROM=") {
		t.Errorf("the first container's port after the second's failure: %q, %v", got, err)
	}
	d.OK("rm", "-f", "first")
	if left := d.Leftovers(); len(left) > 0 {
		t.Errorf("after rm -f: %v", left)
	}
}
