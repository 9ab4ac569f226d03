package remote

import (
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// testPlugin is a network driver plugin written for the tests: a bridge
// per network in the "host" namespace hostNS, a veth pair per joined
// endpoint (host end on the bridge), as a third-party driver would.
type testPlugin struct {
	t          *testing.T
	hostNS     string // "" : no links (protocol tests only)
	sock       string
	srv        *http.Server
	mu         sync.Mutex
	calls      []string
	reqs       map[string]json.RawMessage // last request by method
	gateway    map[string]string          // by network ID
	fail       map[string]string          // method → Err to answer
	status     map[string]int             // method → status to answer
	implements []string
}

func startPlugin(t *testing.T, dir, name, hostNS string) *testPlugin {
	t.Helper()
	p := &testPlugin{t: t, hostNS: hostNS, sock: filepath.Join(dir, name+".sock"),
		reqs: map[string]json.RawMessage{}, gateway: map[string]string{}, fail: map[string]string{},
		status: map[string]int{}, implements: []string{"NetworkDriver"}}
	ln, err := net.Listen("unix", p.sock)
	if err != nil {
		t.Fatal(err)
	}
	p.srv = &http.Server{Handler: p}
	go p.srv.Serve(ln)
	t.Cleanup(func() { p.srv.Close() })
	return p
}

func (p *testPlugin) called() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// set changes the plugin's behaviour under its lock.
func (p *testPlugin) set(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

// req is the last request of method.
func (p *testPlugin) req(method string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.reqs[method])
}

func (p *testPlugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	var body json.RawMessage
	json.NewDecoder(r.Body).Decode(&body)
	p.mu.Lock()
	p.calls = append(p.calls, method)
	p.reqs[method] = body
	failMsg, status := p.fail[method], p.status[method]
	p.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Accept") != MediaType {
		http.Error(w, `{"Err":"want a POST accepting `+MediaType+`"}`, http.StatusBadRequest)
		return
	}
	if status != 0 {
		w.WriteHeader(status)
		w.Write([]byte("no such method"))
		return
	}
	if failMsg != "" {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"Err": failMsg})
		return
	}
	out, err := p.answer(method, body)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"Err": err.Error()})
		return
	}
	w.Header().Set("Content-Type", MediaType)
	json.NewEncoder(w).Encode(out)
}

func (p *testPlugin) answer(method string, body json.RawMessage) (any, error) {
	var req struct {
		NetworkID, EndpointID string
		IPv4Data              []IPAMData
	}
	json.Unmarshal(body, &req)
	switch method {
	case "Plugin.Activate":
		p.mu.Lock()
		defer p.mu.Unlock()
		return map[string]any{"Implements": p.implements}, nil
	case "NetworkDriver.GetCapabilities":
		return Capabilities{Scope: "local", ConnectivityScope: "local"}, nil
	case "NetworkDriver.CreateNetwork":
		if len(req.IPv4Data) != 1 {
			return nil, errString("want one IPv4Data")
		}
		p.mu.Lock()
		p.gateway[req.NetworkID] = req.IPv4Data[0].Gateway
		p.mu.Unlock()
		return struct{}{}, p.links(func(h *netlink.Handle) error {
			br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "tbr" + req.NetworkID[:8]}}
			if err := h.LinkAdd(br); err != nil {
				return err
			}
			gw, err := netlink.ParseAddr(req.IPv4Data[0].Gateway)
			if err != nil {
				return err
			}
			if err := h.AddrAdd(br, gw); err != nil {
				return err
			}
			return h.LinkSetUp(br)
		})
	case "NetworkDriver.DeleteNetwork":
		return struct{}{}, p.links(func(h *netlink.Handle) error { return delLink(h, "tbr"+req.NetworkID[:8]) })
	case "NetworkDriver.CreateEndpoint", "NetworkDriver.Leave", "NetworkDriver.ProgramExternalConnectivity", "NetworkDriver.RevokeExternalConnectivity":
		return struct{}{}, nil
	case "NetworkDriver.Join":
		err := p.links(func(h *netlink.Handle) error {
			br, err := h.LinkByName("tbr" + req.NetworkID[:8])
			if err != nil {
				return err
			}
			v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "th" + req.EndpointID[:8], MasterIndex: br.Attrs().Index}, PeerName: "tc" + req.EndpointID[:8]}
			if err := h.LinkAdd(v); err != nil {
				return err
			}
			return h.LinkSetUp(v)
		})
		p.mu.Lock()
		gw, _, _ := strings.Cut(p.gateway[req.NetworkID], "/")
		p.mu.Unlock()
		return JoinResponse{InterfaceName: &InterfaceName{SrcName: "tc" + req.EndpointID[:8], DstPrefix: "eth"}, Gateway: gw,
			StaticRoutes: []StaticRoute{{Destination: "198.51.100.0/24", RouteType: RouteNextHop, NextHop: gw}, {Destination: "203.0.113.0/24", RouteType: RouteConnected}}}, err
	case "NetworkDriver.DeleteEndpoint":
		return struct{}{}, p.links(func(h *netlink.Handle) error { return delLink(h, "th"+req.EndpointID[:8]) })
	}
	return nil, errString("unknown method " + method)
}

type errString string

func (e errString) Error() string { return string(e) }

// links runs f with a netlink handle in the plugin's host namespace.
func (p *testPlugin) links(f func(*netlink.Handle) error) error {
	if p.hostNS == "" {
		return nil
	}
	ns, err := netns.GetFromPath(p.hostNS)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return f(h)
}

func delLink(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return nil // gone already
	}
	return h.LinkDel(l)
}

// linkNames are the links of the namespace at path.
func linkNames(t *testing.T, path string) []string {
	t.Helper()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ls, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, l.Attrs().Name)
	}
	return out
}
