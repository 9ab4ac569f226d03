package network_test

import (
	"net"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRestoreAfterKill: berthd killed with SIGKILL and started again
// keeps the endpoints of the containers still running (address, published
// port still held and forwarded, DNS name) and removes those of the
// containers that died meanwhile (veth, port, lease).
func TestRestoreAfterKill(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	d.OK("network", "create", "front")
	keepID := d.OK("run", "-d", "--name", "keep", "--network", "front", "-p", "8400:7000", d.Image, "probe", "serve", "7000")
	d.OK("run", "-d", "--name", "gone", "--network", "front", "-p", "8401:7000", d.Image, "probe", "serve", "7000")
	d.OK("run", "-d", "--name", "bgone", "-p", "8402:7000", d.Image, "probe", "serve", "7000")
	keepIP := d.ctrNet("keep").NetworkSettings.Networks["front"].IPAddress
	var pids []int
	for _, name := range []string{"gone", "bgone"} {
		pid, err := strconv.Atoi(d.OK("inspect", "-f", "{{.State.Pid}}", name))
		if err != nil || pid <= 0 {
			t.Fatalf("pid of %s: %v", name, err)
		}
		pids = append(pids, pid)
	}

	d.Kill()
	// While berthd is down two containers die; their shims record it.
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	waitFor(t, "the killed containers to end", func() bool {
		for _, pid := range pids {
			if syscall.Kill(pid, 0) == nil {
				return false
			}
		}
		return true
	})
	d.Start()

	for _, name := range []string{"gone", "bgone"} {
		if st := d.OK("inspect", "-f", "{{.State.Status}}", name); st != "exited" {
			t.Errorf("%s after the restart: %s, want exited", name, st)
		}
	}
	if got := d.ctrNet("keep").NetworkSettings.Networks["front"].IPAddress; got != keepIP {
		t.Errorf("keep's address after the restart: %q, want %s", got, keepIP)
	}
	if got, err := dialFrom(d.Outside, "tcp", extHost.Addr().String()+":8400", 5*time.Second); err != nil || !strings.HasPrefix(got, keepID[:12]) {
		t.Errorf("keep's published port after the restart: %q, %v", got, err)
	}
	// The port is still held: nothing else may take it.
	err := d.in.Do(func() error {
		l, err := net.Listen("tcp4", "0.0.0.0:8400")
		if err == nil {
			l.Close()
		}
		return err
	})
	if err == nil {
		t.Errorf("port 8400 of a running container was free after the restart")
	}
	// The dead ones' ports are gone, the living one's is there.
	if els := d.portElements(); len(els) != 1 {
		t.Errorf("port map elements after the restart: %v, want keep's only", els)
	}
	for _, port := range []string{"8401", "8402"} {
		if got, err := dialFrom(d.Outside, "tcp", extHost.Addr().String()+":"+port, 0); err == nil {
			t.Errorf("a dead container's port %s answered: %q", port, got)
		}
	}
	if names := d.networkContainers("front"); strings.Join(names, ",") != "keep" {
		t.Errorf("containers on front after the restart: %v, want keep", names)
	}
	if names := d.networkContainers("bridge"); len(names) != 0 {
		t.Errorf("containers on bridge after the restart: %v, want none", names)
	}
	if n := len(d.veths()); n != 1 {
		t.Errorf("veths after the restart: %d, want keep's", n)
	}
	// DNS still knows keep.
	d.OK("run", "-d", "--name", "client", "--network", "front", d.Image, "sleep", "600")
	if got := d.OK("exec", "client", "probe", "lookup", "keep"); got != keepIP {
		t.Errorf("keep's name after the restart: %q, want %s", got, keepIP)
	}
	// The dead ones start again, with addresses.
	d.OK("start", "gone")
	if ip := d.ctrNet("gone").NetworkSettings.Networks["front"].IPAddress; ip == "" || ip == keepIP {
		t.Errorf("gone started again: address %q", ip)
	}
}

// TestRemoveForce: docker rm -f of running containers with ports on the
// default bridge and a user network leaves nothing.
func TestRemoveForce(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	d.OK("network", "create", "front")
	d.OK("run", "-d", "--name", "one", "-p", "8500:7000", "-p", "8500:7000/udp", d.Image, "probe", "serve", "7000")
	d.OK("run", "-d", "--name", "two", "--network", "front", "-P", "--expose", "7000", d.Image, "probe", "serve", "7000")
	d.OK("network", "connect", "bridge", "two")
	if n := len(d.portElements()); n != 3 {
		t.Errorf("port map elements: %d, want 3", n)
	}
	d.OK("rm", "-f", "one", "two")
	if left := d.Leftovers(); len(left) > 0 {
		t.Errorf("after rm -f: %v", left)
	}
	// The ports are free again.
	for _, p := range []string{"8500"} {
		if err := d.in.Do(func() error {
			l, err := net.Listen("tcp4", "0.0.0.0:"+p)
			if err == nil {
				l.Close()
			}
			return err
		}); err != nil {
			t.Errorf("port %s after rm -f: %v", p, err)
		}
	}
}

// networkContainers are the names of the containers a network inspect
// lists.
func (d *daemon) networkContainers(network string) []string {
	d.t.Helper()
	out := d.OK("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", network)
	names := strings.Fields(out)
	sort.Strings(names)
	return names
}

// veths are the container veths in berthd's namespace.
func (d *daemon) veths() []string {
	var out []string
	for _, l := range d.links() {
		if l.Type() == "veth" && l.Attrs().Name != "ext0" {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}
