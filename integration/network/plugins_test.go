package network_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/internal/testnetplugin"
	"github.com/berth-dev/berth/internal/testutil"
)

// The tests of this file are not parallel: berthd takes the plugin
// directories from its environment (t.Setenv).

// TestCNINetwork: a network of the cni driver over Debian's bridge and
// host-local plugins: containers get the conflist's addresses, reach each
// other and are reached from the host; rm leaves no lease, no cached
// attachment and no veth.
func TestCNINetwork(t *testing.T) {
	for _, p := range []string{"bridge", "host-local"} {
		if _, err := os.Stat(filepath.Join("/usr/lib/cni", p)); err != nil {
			testutil.Skip(t, "containernetworking-plugins not installed: "+err.Error())
		}
	}
	conf, leases := t.TempDir(), t.TempDir()
	list := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"berthcni","plugins":[
		{"type":"bridge","bridge":"cnib0","isGateway":true,"dns":{"nameservers":["10.93.0.53"]},"ipam":{"type":"host-local",
			"ranges":[[{"subnet":"10.93.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":%q}},
		{"type":"portmap","capabilities":{"portMappings":true}}]}`, leases)
	if err := os.WriteFile(filepath.Join(conf, "10-berthcni.conflist"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETCONFPATH", conf)
	d := newDaemon(t)

	if out := d.Fail("network", "create", "-d", "cni", "nosuchconf"); !strings.Contains(out, "cni network nosuchconf: no configuration in "+conf) {
		t.Errorf("create of a missing conflist: got %q", out)
	}
	if out := d.Fail("network", "create", "-d", "cni", "-o", "cni.network=berthcni", "--subnet", "10.1.0.0/24", "x"); !strings.Contains(out, "IPAM gives the addresses") {
		t.Errorf("create with --subnet: got %q", out)
	}
	d.OK("network", "create", "-d", "cni", "-o", "cni.network=berthcni", "cn")
	// Published ports go to the portmap plugin, with the host port berth
	// reserved; the result's DNS servers make the container's resolv.conf.
	d.OK("run", "-d", "--name", "cp", "--network", "cn", "-p", "18080:7000", d.Image, "probe", "serve", "7000")
	if got, err := dialFrom(d.NS, "tcp", extHost.Addr().String()+":18080", 5*time.Second); err != nil || !strings.Contains(got, "FROM=") {
		t.Errorf("host to cp's published port through portmap: got %q, %v", got, err)
	}
	if out := d.OK("exec", "cp", "cat", "/etc/resolv.conf"); !strings.Contains(out, "nameserver 10.93.0.53") {
		t.Errorf("cp's resolv.conf:\n%s\nwant the CNI result's nameserver 10.93.0.53", out)
	}
	if out := d.OK("port", "cp"); !strings.Contains(out, "7000/tcp -> 0.0.0.0:18080") {
		t.Errorf("docker port cp: got %q", out)
	}
	d.OK("rm", "-f", "cp")
	d.OK("run", "-d", "--name", "ca", "--network", "cn", d.Image, "probe", "serve", "7000")
	d.OK("run", "-d", "--name", "cb", "--network", "cn", d.Image, "probe", "serve", "7000")
	subnet := netip.MustParsePrefix("10.93.0.0/24")
	var ips []string
	for _, c := range []string{"ca", "cb"} {
		ep := d.ctrNet(c).NetworkSettings.Networks["cn"]
		if a, err := netip.ParseAddr(ep.IPAddress); err != nil || !subnet.Contains(a) || ep.IPPrefixLen != 24 {
			t.Fatalf("%s: got address %q/%d, want one of %s", c, ep.IPAddress, ep.IPPrefixLen, subnet)
		}
		ips = append(ips, ep.IPAddress)
	}
	if out := d.OK("exec", "ca", "probe", "dial", "tcp", ips[1]+":7000"); !strings.Contains(out, "FROM="+ips[0]+":") {
		t.Errorf("ca to cb: got %q, want cb to see %s", out, ips[0])
	}
	if got, err := dialFrom(d.NS, "tcp", ips[0]+":7000", 5*time.Second); err != nil || !strings.Contains(got, "FROM=10.93.0.1:") {
		t.Errorf("host to ca: got %q, %v; want ca to see the bridge's address", got, err)
	}
	if out := d.OK("exec", "ca", "ip", "route"); !strings.Contains(out, "default via 10.93.0.1") {
		t.Errorf("ca's routes:\n%s\nwant the conflist's default route", out)
	}
	if n := len(cniLeases(t, leases)); n != 2 {
		t.Errorf("got %d leases, want 2", n)
	}

	// berthd killed; cb dies meanwhile: at the restart its attachment is
	// deleted from the cache (its namespace gone), ca's is kept.
	pid, err := strconv.Atoi(d.OK("inspect", "-f", "{{.State.Pid}}", "cb"))
	if err != nil || pid <= 0 {
		t.Fatalf("pid of cb: %v", err)
	}
	d.Kill()
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, "cb to end", func() bool { return syscall.Kill(pid, 0) != nil })
	d.Start()
	if got := cniLeases(t, leases); len(got) != 1 {
		t.Errorf("leases after the restart: %v, want ca's", got)
	}
	if got, err := dialFrom(d.NS, "tcp", ips[0]+":7000", 5*time.Second); err != nil || got == "" {
		t.Errorf("host to ca after the restart: got %q, %v", got, err)
	}

	d.OK("rm", "-f", "ca", "cb")
	if got := cniLeases(t, leases); len(got) != 0 {
		t.Errorf("leases left after rm: %v", got)
	}
	if des, _ := os.ReadDir(filepath.Join(d.Data, "cni")); len(des) != 0 {
		t.Errorf("cached attachments left after rm: %d", len(des))
	}
	d.OK("network", "rm", "cn")
}

// cniLeases are host-local's address files in dir.
func cniLeases(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() && de.Name() != "lock" && !strings.HasPrefix(de.Name(), "last_reserved_ip") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestRemoteNetworkPlugin: a Docker remote network driver plugin (the
// tests' own, serving on a unix socket) as the driver of a network:
// berth's addresses on the plugin's links, the plugin's routes in the
// containers, its errors in docker's output, and nothing left after rm.
func TestRemoteNetworkPlugin(t *testing.T) {
	dir, err := os.MkdirTemp("", "bnp-") // short: a socket path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := testnetplugin.Start(t, dir, "tplug", "")
	t.Setenv("BERTH_NETWORK_PLUGIN_DIRS", dir)
	d := newDaemon(t)
	p.SetHost(netlab.Path(d.NS))

	d.OK("network", "create", "-d", "tplug", "--subnet", "10.94.0.0/24", "-o", "color=blue", "rn")
	if got := p.Request("NetworkDriver.CreateNetwork"); !strings.Contains(got, `"Pool":"10.94.0.0/24","Gateway":"10.94.0.1/24"`) || !strings.Contains(got, `"color":"blue"`) {
		t.Errorf("CreateNetwork request %s: want the pool, gateway and options", got)
	}
	var ips []string
	for _, c := range []string{"ra", "rb"} {
		d.OK("run", "-d", "--name", c, "--network", "rn", d.Image, "probe", "serve", "7000")
		ep := d.ctrNet(c).NetworkSettings.Networks["rn"]
		ips = append(ips, ep.IPAddress)
		var req struct {
			Interface struct{ Address, MacAddress string }
		}
		json.Unmarshal([]byte(p.Request("NetworkDriver.CreateEndpoint")), &req)
		if req.Interface.Address != ep.IPAddress+"/24" || req.Interface.MacAddress != ep.MacAddress {
			t.Errorf("%s: CreateEndpoint got %+v, want %s/24 and %s", c, req.Interface, ep.IPAddress, ep.MacAddress)
		}
	}
	if ips[0] != "10.94.0.2" || ips[1] != "10.94.0.3" {
		t.Errorf("got addresses %v, want berth's IPAM's 10.94.0.2 and .3", ips)
	}
	if out := d.OK("exec", "ra", "probe", "dial", "tcp", ips[1]+":7000"); !strings.Contains(out, "FROM="+ips[0]+":") {
		t.Errorf("ra to rb: got %q, want rb to see %s", out, ips[0])
	}
	routes := d.OK("exec", "ra", "ip", "route")
	for _, want := range []string{"default via 10.94.0.1 dev eth0", "198.51.100.0/24 via 10.94.0.1 dev eth0", "203.0.113.0/24 dev eth0"} {
		if !strings.Contains(routes, want) {
			t.Errorf("ra's routes:\n%s\nwant %q", routes, want)
		}
	}

	p.Fail("NetworkDriver.CreateNetwork", "no more networks today")
	if out := d.Fail("network", "create", "-d", "tplug", "--subnet", "10.95.0.0/24", "rn2"); !strings.Contains(out, "remote network driver tplug: NetworkDriver.CreateNetwork: no more networks today") {
		t.Errorf("plugin's refusal: got %q", out)
	}
	if out := d.OK("network", "ls", "-q", "--filter", "name=rn2"); out != "" {
		t.Errorf("a network the plugin refused is listed: %q", out)
	}

	// berthd killed; rb dies meanwhile: at the restart the plugin is
	// told to delete rb's endpoint, ra's stays.
	pid, err := strconv.Atoi(d.OK("inspect", "-f", "{{.State.Pid}}", "rb"))
	if err != nil || pid <= 0 {
		t.Fatalf("pid of rb: %v", err)
	}
	d.Kill()
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, "rb to end", func() bool { return syscall.Kill(pid, 0) != nil })
	d.Start()
	if got := strings.Count(strings.Join(p.Calls(), " ")+" ", "NetworkDriver.DeleteEndpoint "); got != 1 {
		t.Errorf("got %d DeleteEndpoint calls after the restart, want rb's: %v", got, p.Calls())
	}
	if got, err := dialFrom(d.NS, "tcp", ips[0]+":7000", 5*time.Second); err != nil || !strings.Contains(got, "FROM=10.94.0.1:") {
		t.Errorf("host to ra after the restart: got %q, %v", got, err)
	}

	d.OK("rm", "-f", "ra", "rb")
	d.OK("network", "rm", "rn")
	for _, l := range d.links() {
		if n := l.Attrs().Name; strings.HasPrefix(n, "tbr") || strings.HasPrefix(n, "th") || strings.HasPrefix(n, "tc") {
			t.Errorf("plugin's link %s left", n)
		}
	}
	calls := strings.Join(p.Calls(), " ") + " "
	for m, want := range map[string]int{"Join": 2, "Leave": 2, "DeleteEndpoint": 2, "DeleteNetwork": 1} {
		if got := strings.Count(calls, "NetworkDriver."+m+" "); got != want {
			t.Errorf("got %d %s calls, want %d", got, m, want)
		}
	}
}
