package network_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/internal/testbundle"
)

// nsThread is a goroutine locked to a thread in a network namespace for
// a test's life: berthd is forked from it (so its death signal waits for
// the test's end) and sockets in the namespace are opened on it. The
// thread is never unlocked; it ends with the goroutine.
type nsThread struct {
	jobs chan func()
}

func startNSThread(t *testing.T, ns netns.NsHandle) *nsThread {
	t.Helper()
	th := &nsThread{jobs: make(chan func())}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for job := range th.jobs {
			job()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("enter berthd's network namespace: %v", err)
	}
	t.Cleanup(func() { close(th.jobs) })
	return th
}

// Do runs f on the thread.
func (th *nsThread) Do(f func() error) error {
	errc := make(chan error, 1)
	th.jobs <- func() { errc <- f() }
	return <-errc
}

// dialFrom connects from namespace ns to addr ("tcp" or "udp") and
// returns the answer of a probe server, retrying for a few seconds
// while the server comes up; "" when none came.
func dialFrom(ns netns.NsHandle, proto, addr string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	var last error
	for {
		var got string
		err := netlab.In(ns, func() error {
			c, err := net.DialTimeout(proto+"4", addr, time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Second))
			if proto == "udp" {
				if _, err := c.Write([]byte("?")); err != nil {
					return err
				}
			}
			buf := make([]byte, 512)
			n, err := c.Read(buf)
			if err != nil {
				return err
			}
			got = strings.TrimSpace(string(buf[:n]))
			return nil
		})
		if err == nil {
			return got, nil
		}
		last = err
		if time.Now().After(deadline) {
			return "", last
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// listener is a TCP server in a namespace the test made: it answers each
// connection with the address it came from, and remembers them.
type listener struct {
	l    net.Listener
	from chan string
}

func listenIn(t *testing.T, ns netns.NsHandle, addr string) *listener {
	t.Helper()
	var l net.Listener
	err := netlab.In(ns, func() error {
		var err error
		l, err = net.Listen("tcp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	ln := &listener{l: l, from: make(chan string, 16)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			from := c.RemoteAddr().String()
			fmt.Fprintf(c, "test FROM=%s\n", from)
			c.Close()
			select {
			case ln.from <- from:
			default:
			}
		}
	}()
	t.Cleanup(func() { l.Close() })
	return ln
}

func (ln *listener) Port() int { return ln.l.Addr().(*net.TCPAddr).Port }

// loadImage makes the test image (a static busybox with its applets, the
// probe, /etc/passwd and /etc/group) as a docker save archive and loads
// it into berthd.
func loadImage(t *testing.T, d *daemon) string {
	t.Helper()
	const ref = "nettest:latest"
	layer := imageLayer(t)
	sum := sha256.Sum256(layer)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	cfg, _ := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Cmd": []string{"sh"}, "Env": []string{"PATH=/bin"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	csum := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(csum[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{ref}, "Layers": []string{"layer.tar"}}})
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	for _, f := range []struct {
		name string
		data []byte
	}{{"layer.tar", layer}, {cfgName, cfg}, {"manifest.json", manifest}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)})
		tw.Write(f.data)
	}
	tw.Close()
	path := filepath.Join(d.dir, "image.tar")
	if err := os.WriteFile(path, archive.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d.OK("load", "-q", "-i", path)
	return ref
}

// imageLayer is the image's only layer.
func imageLayer(t *testing.T) []byte {
	t.Helper()
	bb, err := os.ReadFile(testbundle.Busybox(t))
	if err != nil {
		t.Fatal(err)
	}
	pr, err := os.ReadFile(probe)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(h *tar.Header, data []byte) {
		h.ModTime = time.Unix(0, 0)
		h.Size = int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	for _, dir := range []string{"bin/", "etc/", "tmp/", "root/"} {
		mode := int64(0o755)
		if dir == "tmp/" {
			mode = 0o1777
		}
		add(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: mode}, nil)
	}
	add(&tar.Header{Name: "bin/busybox", Mode: 0o755}, bb)
	add(&tar.Header{Name: "bin/probe", Mode: 0o755}, pr)
	for _, a := range []string{"sh", "sleep", "cat", "echo", "hostname", "ip", "nslookup", "wget", "ping", "true", "grep", "ls"} {
		add(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
	}
	add(&tar.Header{Name: "etc/passwd", Mode: 0o644}, []byte("root:x:0:0:root:/root:/bin/sh\n"))
	add(&tar.Header{Name: "etc/group", Mode: 0o644}, []byte("root:x:0:\n"))
	tw.Close()
	return b.Bytes()
}

// CheckClean removes every container and fails the test if anything of
// them is left in berthd's namespace: a veth, a published port in berth's
// nftables maps, an endpoint (address lease) on any network.
func (d *daemon) CheckClean() {
	t := d.t
	t.Helper()
	if ids := strings.Fields(d.Docker("ps", "-aq").Stdout); len(ids) > 0 {
		if r := d.Docker(append([]string{"rm", "-f"}, ids...)...); r.Code != 0 {
			t.Errorf("docker rm -f: %s", r.Stderr)
		}
	}
	if left := d.Leftovers(); len(left) > 0 {
		t.Errorf("left behind after removing every container:\n%s", strings.Join(left, "\n"))
	}
}

// Leftovers lists the veths, published ports and endpoints in berthd's
// namespace and records.
func (d *daemon) Leftovers() []string {
	var out []string
	for _, l := range d.links() {
		if l.Type() == "veth" && l.Attrs().Name != "ext0" {
			out = append(out, "veth "+l.Attrs().Name)
		}
	}
	for _, e := range d.portElements() {
		out = append(out, "nftables port map element "+e)
	}
	for _, n := range strings.Fields(d.OK("network", "ls", "-q")) {
		var insp []struct {
			Name       string
			Containers map[string]any
		}
		if err := json.Unmarshal([]byte(d.OK("network", "inspect", n)), &insp); err != nil || len(insp) != 1 {
			out = append(out, fmt.Sprintf("network inspect %s: %v", n, err))
			continue
		}
		for id := range insp[0].Containers {
			out = append(out, fmt.Sprintf("endpoint of %s on network %s", id, insp[0].Name))
		}
	}
	return out
}

// links are the links in berthd's namespace.
func (d *daemon) links() []netlink.Link {
	h, err := netlink.NewHandleAt(d.NS)
	if err != nil {
		d.t.Fatal(err)
	}
	defer h.Close()
	ls, err := h.LinkList()
	if err != nil {
		d.t.Fatal(err)
	}
	return ls
}

// link is the link of that name in berthd's namespace, nil if none.
func (d *daemon) link(name string) netlink.Link {
	for _, l := range d.links() {
		if l.Attrs().Name == name {
			return l
		}
	}
	return nil
}

// portElements are the elements of the port maps of berth's table in
// berthd's namespace (a published port each).
func (d *daemon) portElements() []string {
	c, err := nftables.New(nftables.WithNetNSFd(int(d.NS)))
	if err != nil {
		d.t.Fatal(err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		d.t.Fatalf("list nftables tables: %v", err)
	}
	var out []string
	for _, tb := range tables {
		if tb.Name != "berth" {
			continue
		}
		sets, err := c.GetSets(tb)
		if err != nil {
			d.t.Fatalf("list sets of table berth: %v", err)
		}
		for _, s := range sets {
			if !s.IsMap {
				continue
			}
			els, err := c.GetSetElements(s)
			if err != nil {
				d.t.Fatalf("list elements of %s: %v", s.Name, err)
			}
			for _, e := range els {
				out = append(out, fmt.Sprintf("%s %x", s.Name, e.Key))
			}
		}
	}
	sort.Strings(out)
	return out
}

// nftTables are the names of the inet tables in berthd's namespace.
func (d *daemon) nftTables() []string {
	c, err := nftables.New(nftables.WithNetNSFd(int(d.NS)))
	if err != nil {
		d.t.Fatal(err)
	}
	tables, err := c.ListTables()
	if err != nil {
		d.t.Fatalf("list nftables tables: %v", err)
	}
	var out []string
	for _, tb := range tables {
		out = append(out, tb.Name)
	}
	return out
}

// inspect decodes docker inspect of one object.
func (d *daemon) inspect(ref string, v any) {
	d.t.Helper()
	out := d.OK("inspect", ref)
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
		d.t.Fatalf("docker inspect %s: %v\n%s", ref, err, out)
	}
	if err := json.Unmarshal(list[0], v); err != nil {
		d.t.Fatalf("docker inspect %s: %v", ref, err)
	}
}

// endpoint is one network of a container as inspect shows it.
type endpoint struct {
	NetworkID, EndpointID, Gateway, IPAddress, MacAddress string
	IPPrefixLen                                           int
	Aliases, DNSNames                                     []string
}

// ctrNet is the network part of a container's inspect.
type ctrNet struct {
	NetworkSettings struct {
		IPAddress, Gateway string
		SandboxKey         string
		Ports              map[string][]struct{ HostIp, HostPort string }
		Networks           map[string]endpoint
	}
}

func (d *daemon) ctrNet(ref string) ctrNet {
	d.t.Helper()
	var c ctrNet
	d.inspect(ref, &c)
	return c
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
