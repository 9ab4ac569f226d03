package network_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testdaemon"
)

// TestNetworkCommands runs the same story through the docker CLI and
// the berth CLI, each against a berthd of its own: the predefined
// networks listed, a user network created, listed with filters,
// inspected, joined at run (alias, static address, a second network),
// connected and disconnected, published ports listed, refused to go while
// in use, pruned and removed; and the errors of a duplicate name, an
// overlapping subnet, an invalid CIDR, an unknown network and a
// predefined one.
func TestNetworkCommands(t *testing.T) {
	for _, name := range []string{"docker", "berth"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newDaemon(t)
			run := d.Docker
			if name == "berth" {
				run = d.berth
			}
			networkStory(t, d, cli{t: t, name: name, run: run})
		})
	}
}

// cli runs one client's commands against the test's berthd.
type cli struct {
	t    *testing.T
	name string
	run  func(args ...string) result
}

// ok runs a command, fails the test unless it exits 0, and returns its
// output trimmed.
func (c cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.Code != 0 {
		c.t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", c.name, strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return strings.TrimSpace(r.Stdout)
}

// fail runs a command and checks that it fails saying want.
func (c cli) fail(want string, args ...string) {
	c.t.Helper()
	r := c.run(args...)
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		c.t.Errorf("%s %s: exit %d, stderr %q; want a failure saying %q", c.name, strings.Join(args, " "), r.Code, r.Stderr, want)
	}
}

func networkStory(t *testing.T, d *daemon, c cli) {
	// The predefined networks, in docker's table.
	ls := c.ok("network", "ls")
	if !strings.HasPrefix(ls, "NETWORK ID     NAME      DRIVER    SCOPE\n") {
		t.Errorf("network ls: header of %q, want docker's", ls)
	}
	if got := lines(c.ok("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}")); !slices.Equal(got, []string{"bridge bridge local", "host host local", "none null local"}) {
		t.Errorf("network ls: got %q, want bridge, host and none", got)
	}

	id := c.ok("network", "create", "--subnet", "10.77.0.0/24", "--gateway", "10.77.0.254", "--ip-range", "10.77.0.128/25",
		"--label", "team=a", "-o", "com.docker.network.bridge.name=brtest", "n1")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("network create: got %q, want an ID", id)
	}
	if d.link("brtest") == nil {
		t.Errorf("no bridge brtest in berthd's namespace after create")
	}
	insp := c.ok("network", "inspect", "--format", "{{.Name}} {{.Driver}} {{.Scope}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}} {{.Labels}} {{.Internal}}", "n1")
	if want := "n1 bridge local 10.77.0.0/24 10.77.0.254 10.77.0.128/25 map[team:a] false"; insp != want {
		t.Errorf("network inspect n1: got %q, want %q", insp, want)
	}
	if got := c.ok("network", "ls", "-q", "-f", "type=custom"); got != id[:12] {
		t.Errorf("network ls -q -f type=custom: got %q, want %s", got, id[:12])
	}
	if got := c.ok("network", "ls", "-q", "--no-trunc", "-f", "label=team=a"); got != id {
		t.Errorf("network ls -q --no-trunc -f label=team=a: got %q, want %s", got, id)
	}
	if got := lines(c.ok("network", "ls", "--format", "{{.Name}}", "-f", "type=builtin")); !slices.Equal(got, []string{"bridge", "host", "none"}) {
		t.Errorf("network ls -f type=builtin: got %q", got)
	}

	c.fail("network with name n1 already exists", "network", "create", "n1")
	c.fail("overlaps", "network", "create", "--subnet", "10.77.0.0/16", "over")
	c.fail("10.77.0.0/33", "network", "create", "--subnet", "10.77.0.0/33", "badcidr")
	c.fail("network nope not found", "network", "inspect", "nope")
	c.fail("network nope not found", "network", "rm", "nope")
	c.fail("bridge is a pre-defined network and cannot be removed", "network", "rm", "bridge")

	// Joined at run, with an alias and a static address.
	c.ok("run", "-d", "--name", "web", "--network", "n1", "--network-alias", "www", "--ip", "10.77.0.200",
		"-p", "8080:80", "-p", "127.0.0.1::81/udp", d.Image, "sleep", "600")
	ep := d.ctrNet("web").NetworkSettings.Networks["n1"]
	if ep.IPAddress != "10.77.0.200" || ep.Gateway != "10.77.0.254" || !slices.Contains(ep.Aliases, "www") {
		t.Errorf("inspect web on n1: got %+v, want 10.77.0.200 via 10.77.0.254 with alias www", ep)
	}
	if got := c.ok("network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "n1"); got != "web 10.77.0.200/24" {
		t.Errorf("network inspect n1 containers: got %q, want web 10.77.0.200/24", got)
	}
	ports := lines(c.ok("port", "web"))
	if len(ports) != 2 || ports[0] != "80/tcp -> 0.0.0.0:8080" || !strings.HasPrefix(ports[1], "81/udp -> 127.0.0.1:") {
		t.Errorf("port web: got %q, want 80/tcp on 0.0.0.0:8080 and 81/udp on 127.0.0.1", ports)
	}
	if got := c.ok("port", "web", "80"); got != "0.0.0.0:8080" {
		t.Errorf("port web 80: got %q, want 0.0.0.0:8080", got)
	}
	c.fail("has active endpoints", "network", "rm", "n1")
	if got := c.ok("network", "ls", "-q", "-f", "dangling=true"); got != "" {
		t.Errorf("network ls -f dangling=true with n1 in use: got %q, want nothing", got)
	}

	// A second network: at run, and by connect and disconnect.
	c.ok("network", "create", "--subnet", "10.78.0.0/24", "n2")
	c.ok("run", "-d", "--name", "multi", "--network", "n1", "--network", "n2", d.Image, "sleep", "600")
	if nets := d.ctrNet("multi").NetworkSettings.Networks; nets["n1"].IPAddress == "" || nets["n2"].IPAddress == "" {
		t.Errorf("inspect multi: networks %+v, want addresses on n1 and n2", nets)
	}
	c.ok("network", "connect", "--alias", "db", "--ip", "10.78.0.9", "n2", "web")
	ep = d.ctrNet("web").NetworkSettings.Networks["n2"]
	if ep.IPAddress != "10.78.0.9" || !slices.Contains(ep.Aliases, "db") {
		t.Errorf("inspect web on n2 after connect: got %+v, want 10.78.0.9 with alias db", ep)
	}
	if out := d.OK("exec", "web", "ip", "-4", "addr"); !strings.Contains(out, "10.78.0.9/24") {
		t.Errorf("addresses in web after connect: %s, want 10.78.0.9/24", out)
	}
	c.fail("not found", "network", "connect", "nope", "web")
	c.ok("network", "disconnect", "n2", "web")
	if _, ok := d.ctrNet("web").NetworkSettings.Networks["n2"]; ok {
		t.Errorf("inspect web after disconnect: still on n2")
	}
	if out := d.OK("exec", "web", "ip", "-4", "addr"); strings.Contains(out, "10.78.0.9") {
		t.Errorf("addresses in web after disconnect: %s, want no 10.78.0.9", out)
	}

	// Prune takes the unused networks only; rm takes one once free.
	c.ok("rm", "-f", "multi")
	c.ok("network", "create", "n3")
	pruned := c.ok("network", "prune", "-f")
	if !strings.HasPrefix(pruned, "Deleted Networks:\n") || !slices.Equal(lines(strings.TrimPrefix(pruned, "Deleted Networks:\n")), []string{"n2", "n3"}) {
		t.Errorf("network prune -f: got %q, want n2 and n3 deleted", pruned)
	}
	c.ok("rm", "-f", "web")
	if got := c.ok("network", "rm", "n1"); got != "n1" {
		t.Errorf("network rm n1: got %q, want n1", got)
	}
	if got := c.ok("network", "ls", "-q", "-f", "type=custom"); got != "" {
		t.Errorf("network ls -f type=custom at the end: got %q, want nothing", got)
	}
	if d.link("brtest") != nil {
		t.Errorf("bridge brtest still in berthd's namespace after network rm")
	}
}

// lines are s's lines, sorted.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.Split(s, "\n")
	slices.Sort(out)
	return out
}

// berth runs the berth CLI ($BERTH, else beside berthd) against this
// berthd.
func (d *daemon) berth(args ...string) result {
	d.t.Helper()
	bin := os.Getenv("BERTH")
	if bin == "" {
		bin = filepath.Join(filepath.Dir(berthd), "berth")
	}
	return testdaemon.Run(d.t, nil, []string{"HOME=" + d.dir, "BERTH_HOST=unix://" + d.Sock}, bin, args...)
}

// TestNetworkAPIVersions: old clients get the network routes as their
// API version defined them: containers in the list before 1.28, no
// EnableIPv4 before 1.48, a duplicate name refused whatever
// CheckDuplicate said.
func TestNetworkAPIVersions(t *testing.T) {
	t.Parallel()
	d := newDaemon(t)
	code, body := d.API("POST", "/v1.30/networks/create", strings.NewReader(`{"Name":"old","CheckDuplicate":false,"IPAM":{"Config":[{"Subnet":"10.79.0.0/24"}]}}`))
	if code != 201 {
		t.Fatalf("create on API 1.30: %d %s", code, body)
	}
	code, body = d.API("POST", "/v1.30/networks/create", strings.NewReader(`{"Name":"old","CheckDuplicate":false}`))
	if code != 409 || !strings.Contains(body, "network with name old already exists") {
		t.Errorf("duplicate on API 1.30 without CheckDuplicate: got %d %s, want 409", code, body)
	}
	d.OK("run", "-d", "--name", "ctr", "--network", "old", d.Image, "sleep", "600")
	for _, tc := range []struct {
		version          string
		containers, ipv4 bool
	}{{"1.24", true, false}, {"1.27", true, false}, {"1.28", false, false}, {"1.47", false, false}, {"1.48", false, true}, {"1.51", false, true}} {
		code, body := d.API("GET", "/v"+tc.version+`/networks?filters={"name":{"old":true}}`, nil)
		if code != 200 {
			t.Fatalf("list on API %s: %d %s", tc.version, code, body)
		}
		if got := strings.Contains(body, `"Name":"ctr"`); got != tc.containers {
			t.Errorf("list on API %s: containers shown %v, want %v: %s", tc.version, got, tc.containers, body)
		}
		if got := strings.Contains(body, `"EnableIPv4"`); got != tc.ipv4 {
			t.Errorf("list on API %s: EnableIPv4 shown %v, want %v: %s", tc.version, got, tc.ipv4, body)
		}
		code, body = d.API("GET", "/v"+tc.version+"/networks/old", nil)
		if code != 200 || !strings.Contains(body, `"Name":"ctr"`) {
			t.Errorf("inspect on API %s: got %d %s, want the container", tc.version, code, body)
		}
	}

	// Create, connect, disconnect and destroy are network events.
	d.OK("rm", "-f", "ctr")
	d.OK("network", "rm", "old")
	until := strconv.FormatInt(time.Now().Unix()+1, 10)
	evs := lines(d.OK("events", "--since", "0", "--until", until, "--filter", "type=network", "--format", "{{.Action}} {{.Actor.Attributes.name}}"))
	for _, want := range []string{"create old", "connect old", "disconnect old", "destroy old"} {
		if !slices.Contains(evs, want) {
			t.Errorf("network events: got %q, want %q among them", evs, want)
		}
	}
}
