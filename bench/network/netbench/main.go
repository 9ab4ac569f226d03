// Command netbench measures TCP throughput with iperf3 along the paths a
// container's traffic takes, in network namespaces it makes (none of the
// caller's links, routes or tables are touched), with berth's nftables
// rules (network/nat) applied in its "host" namespace:
//
//	client X 192.0.2.2 ── ext0 192.0.2.1  host H ── brA 10.89.1.1/24 ── c1 .2 (iperf3 -s :5201)
//	                                               (ip_forward, nat)  └─ c2 .3
//
// c1's 5201 is published on the host's port 8080. Paths, each the median
// of -runs runs of -time seconds, runs interleaved:
//
//	loopback                 H → 127.0.0.1 (an iperf3 server in H)
//	host → container         H → 10.89.1.2:5201
//	host → 127.0.0.1 (DNAT)  H → 127.0.0.1:8080
//	client → container       X → 10.89.1.2:5201, routed through H
//	client → host (DNAT)     X → 192.0.2.1:8080
//	container → container    c2 → 10.89.1.2:5201
//	container → host (DNAT)  c2 → 192.0.2.1:8080 (hairpin NAT)
//
// Each run also counts, for one second, TCP connections opened, answered
// (one byte each way) and closed one after the other (a Go client and
// server on port 5202, published on 8081): the cost of NAT is paid per
// connection, so this is where it would show.
//
// It prints a markdown table with each published path's ratio to its
// direct counterpart. Run as root; needs iperf3.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"time"

	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/netlab"
	"github.com/berth-dev/berth/network/nat"
)

type path struct {
	name   string
	from   *netns.NsHandle
	addr   string
	port   int    // iperf3's; the connection server's is port+1
	direct string // the direct path this one is compared with
	gbps   []float64
	crr    []float64 // connections per second
}

func main() {
	secs := flag.Int("time", 5, "seconds per iperf3 run")
	runs := flag.Int("runs", 3, "runs per path")
	flag.Parse()
	if err := run(*secs, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "netbench:", err)
		os.Exit(1)
	}
}

func run(secs, runs int) error {
	var h, x, c1, c2 netns.NsHandle
	var err error
	if h, err = netlab.NewNS(); err != nil {
		return err
	}
	defer h.Close()
	if x, err = netlab.NewNS(); err != nil {
		return err
	}
	defer x.Close()
	if err := netlab.Link(h, "ext0", netip.MustParsePrefix("192.0.2.1/24"), x, "eth0", netip.MustParsePrefix("192.0.2.2/24")); err != nil {
		return err
	}
	if err := netlab.DefaultRoute(x, netip.MustParseAddr("192.0.2.1")); err != nil {
		return err
	}
	subnet, gw := netip.MustParsePrefix("10.89.1.0/24"), netip.MustParseAddr("10.89.1.1")
	if err := netlab.Bridge(h, "brA", netip.PrefixFrom(gw, 24)); err != nil {
		return err
	}
	if c1, err = netlab.Container(h, "brA", "vc1", netip.MustParsePrefix("10.89.1.2/24"), gw); err != nil {
		return err
	}
	defer c1.Close()
	if c2, err = netlab.Container(h, "brA", "vc2", netip.MustParsePrefix("10.89.1.3/24"), gw); err != nil {
		return err
	}
	defer c2.Close()

	var tb *nat.Table
	if err := netlab.In(h, func() (err error) { tb, err = nat.Open("berth"); return err }); err != nil {
		return err
	}
	defer tb.Close()
	start := time.Now()
	err = tb.Apply(nat.Rules{
		Networks: []nat.NetRule{{Bridge: "brA", Subnet: subnet, ICC: true}},
		Ports: []nat.PortRule{
			{Proto: "tcp", HostPort: 8080, ContainerIP: netip.MustParseAddr("10.89.1.2"), ContainerPort: 5201, Bridge: "brA"},
			{Proto: "tcp", HostPort: 8081, ContainerIP: netip.MustParseAddr("10.89.1.2"), ContainerPort: 5202, Bridge: "brA"},
		},
	})
	if err != nil {
		return err
	}
	applied := time.Since(start)

	for _, s := range []struct {
		ns   netns.NsHandle
		port int
	}{{c1, 5201}, {h, 5301}} {
		cmd := exec.Command("iperf3", "-s", "-p", strconv.Itoa(s.port))
		// The child is forked from a thread in the namespace and so
		// lives in it.
		if err := netlab.In(s.ns, cmd.Start); err != nil {
			return fmt.Errorf("start iperf3 server: %w", err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
	}
	for _, s := range []struct {
		ns   netns.NsHandle
		port int
	}{{c1, 5202}, {h, 5302}} {
		if err := serveCRR(s.ns, s.port); err != nil {
			return err
		}
	}
	time.Sleep(300 * time.Millisecond)

	paths := []*path{
		{name: "loopback", from: &h, addr: "127.0.0.1", port: 5301},
		{name: "host → container", from: &h, addr: "10.89.1.2", port: 5201},
		{name: "host → 127.0.0.1:8080 (DNAT)", from: &h, addr: "127.0.0.1", port: 8080, direct: "host → container"},
		{name: "client → container (routed)", from: &x, addr: "10.89.1.2", port: 5201},
		{name: "client → host 192.0.2.1:8080 (DNAT)", from: &x, addr: "192.0.2.1", port: 8080, direct: "client → container (routed)"},
		{name: "container → container", from: &c2, addr: "10.89.1.2", port: 5201},
		{name: "container → host 192.0.2.1:8080 (DNAT)", from: &c2, addr: "192.0.2.1", port: 8080, direct: "container → container"},
	}
	for range runs {
		for _, p := range paths {
			g, err := iperf(*p.from, p.addr, p.port, secs)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			p.gbps = append(p.gbps, g)
			c, err := crr(*p.from, p.addr, p.port+1, time.Second)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			p.crr = append(p.crr, c)
		}
	}
	fmt.Printf("nat.Apply of the table: %v\n\n", applied.Round(time.Microsecond))
	fmt.Printf("TCP, iperf3 -t %d, median of %d runs (one stream):\n\n", secs, runs)
	fmt.Println("| path | median | min | max | published / direct | connections/s | published / direct |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	med, medCRR := map[string]float64{}, map[string]float64{}
	for _, p := range paths {
		slices.Sort(p.gbps)
		slices.Sort(p.crr)
		m, c := p.gbps[len(p.gbps)/2], p.crr[len(p.crr)/2]
		med[p.name], medCRR[p.name] = m, c
		ratio, ratioCRR := "", ""
		if p.direct != "" {
			ratio = fmt.Sprintf("%.2f", m/med[p.direct])
			ratioCRR = fmt.Sprintf("%.2f", c/medCRR[p.direct])
		}
		fmt.Printf("| %s | %.2f Gbit/s | %.2f | %.2f | %s | %.0f | %s |\n", p.name, m, p.gbps[0], p.gbps[len(p.gbps)-1], ratio, c, ratioCRR)
	}
	return nil
}

// iperf runs one iperf3 client in ns and returns the received rate.
func iperf(ns netns.NsHandle, addr string, port, secs int) (float64, error) {
	var out []byte
	err := netlab.In(ns, func() (err error) {
		out, err = exec.Command("iperf3", "-J", "-c", addr, "-p", strconv.Itoa(port), "-t", strconv.Itoa(secs)).Output()
		return err
	})
	var r struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if jerr := json.Unmarshal(out, &r); jerr != nil || r.Error != "" || err != nil {
		return 0, fmt.Errorf("iperf3 -c %s -p %d: %v %s", addr, port, err, r.Error)
	}
	return r.End.SumReceived.BitsPerSecond / 1e9, nil
}
