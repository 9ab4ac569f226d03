// Package testnetplugin is a Docker remote network driver plugin written
// for tests: it serves the plugin protocol on a unix socket and, in a
// network namespace the test gives (its "host"), makes a bridge per
// network with the gateway address and a veth pair per joined endpoint
// (host end on the bridge), answering Join with the other end as
// SrcName, as a third-party driver would. It speaks the protocol from
// its own reading of Docker's documentation, not through network/remote.
package testnetplugin

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// MediaType is the plugin protocol's.
const MediaType = "application/vnd.docker.plugins.v1.2+json"

// Plugin is a running test plugin.
type Plugin struct {
	Sock string // its socket, DIR/NAME.sock

	host string // "" : no links (protocol only)
	srv  *http.Server

	mu         sync.Mutex
	calls      []string
	reqs       map[string]string // last request body by method
	gateway    map[string]string // by network ID, "10.0.0.1/24"
	fail       map[string]string // method → Err to answer with 500
	status     map[string]int    // method → bare status to answer
	implements []string
}

// Start serves plugin name on DIR/NAME.sock until the test ends; links
// are made in the namespace at host ("" : none).
func Start(t testing.TB, dir, name, host string) *Plugin {
	t.Helper()
	p := &Plugin{Sock: filepath.Join(dir, name+".sock"), host: host, reqs: map[string]string{},
		gateway: map[string]string{}, fail: map[string]string{}, status: map[string]int{},
		implements: []string{"NetworkDriver"}}
	ln, err := net.Listen("unix", p.Sock)
	if err != nil {
		t.Fatal(err)
	}
	p.srv = &http.Server{Handler: p}
	go p.srv.Serve(ln)
	t.Cleanup(func() { p.srv.Close() })
	return p
}

// SetHost makes the plugin make its links in the namespace at path from
// now on (for a host namespace made after the plugin started).
func (p *Plugin) SetHost(path string) { p.set(func() { p.host = path }) }

// Calls are the methods called so far, in order.
func (p *Plugin) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// Request is the last request body of method.
func (p *Plugin) Request(method string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reqs[method]
}

// Fail makes method answer 500 with {"Err": msg}.
func (p *Plugin) Fail(method, msg string) { p.set(func() { p.fail[method] = msg }) }

// Status makes method answer a bare status code.
func (p *Plugin) Status(method string, code int) { p.set(func() { p.status[method] = code }) }

// Implements changes what Plugin.Activate answers.
func (p *Plugin) Implements(kinds ...string) { p.set(func() { p.implements = kinds }) }

func (p *Plugin) set(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

func (p *Plugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	var body json.RawMessage
	json.NewDecoder(r.Body).Decode(&body)
	p.mu.Lock()
	p.calls = append(p.calls, method)
	p.reqs[method] = string(body)
	failMsg, status := p.fail[method], p.status[method]
	p.mu.Unlock()
	switch {
	case r.Method != http.MethodPost || r.Header.Get("Accept") != MediaType:
		reply(w, http.StatusBadRequest, map[string]string{"Err": "want a POST accepting " + MediaType})
	case status != 0:
		w.WriteHeader(status)
		w.Write([]byte("no such method"))
	case failMsg != "":
		reply(w, http.StatusInternalServerError, map[string]string{"Err": failMsg})
	default:
		out, err := p.answer(method, body)
		if err != nil {
			reply(w, http.StatusInternalServerError, map[string]string{"Err": err.Error()})
			return
		}
		reply(w, http.StatusOK, out)
	}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

type request struct {
	NetworkID, EndpointID string
	IPv4Data              []struct{ Pool, Gateway string }
}

// Names of the links the plugin makes.
func bridgeName(nid string) string { return "tbr" + nid[:8] }
func hostEnd(eid string) string    { return "th" + eid[:8] }
func ctrEnd(eid string) string     { return "tc" + eid[:8] }

func (p *Plugin) answer(method string, body json.RawMessage) (any, error) {
	var req request
	json.Unmarshal(body, &req)
	if strings.HasPrefix(method, "NetworkDriver.") && method != "NetworkDriver.GetCapabilities" && len(req.NetworkID) < 8 ||
		req.EndpointID != "" && len(req.EndpointID) < 8 {
		return nil, fmt.Errorf("short network or endpoint ID in %s", body)
	}
	empty := map[string]any{}
	switch method {
	case "Plugin.Activate":
		p.mu.Lock()
		defer p.mu.Unlock()
		return map[string]any{"Implements": p.implements}, nil
	case "NetworkDriver.GetCapabilities":
		return map[string]string{"Scope": "local", "ConnectivityScope": "local"}, nil
	case "NetworkDriver.CreateNetwork":
		if len(req.IPv4Data) != 1 {
			return nil, fmt.Errorf("want one IPv4Data, got %d", len(req.IPv4Data))
		}
		p.set(func() { p.gateway[req.NetworkID] = req.IPv4Data[0].Gateway })
		return empty, p.links(func(h *netlink.Handle) error {
			return makeBridge(h, bridgeName(req.NetworkID), req.IPv4Data[0].Gateway)
		})
	case "NetworkDriver.DeleteNetwork":
		return empty, p.links(func(h *netlink.Handle) error { return delLink(h, bridgeName(req.NetworkID)) })
	case "NetworkDriver.CreateEndpoint", "NetworkDriver.Leave", "NetworkDriver.ProgramExternalConnectivity",
		"NetworkDriver.RevokeExternalConnectivity":
		return empty, nil
	case "NetworkDriver.Join":
		err := p.links(func(h *netlink.Handle) error {
			return makeVeth(h, bridgeName(req.NetworkID), hostEnd(req.EndpointID), ctrEnd(req.EndpointID))
		})
		p.mu.Lock()
		gw, _, _ := strings.Cut(p.gateway[req.NetworkID], "/")
		p.mu.Unlock()
		return map[string]any{
			"InterfaceName": map[string]string{"SrcName": ctrEnd(req.EndpointID), "DstPrefix": "eth"},
			"Gateway":       gw,
			"StaticRoutes": []map[string]any{
				{"Destination": "198.51.100.0/24", "RouteType": 0, "NextHop": gw},
				{"Destination": "203.0.113.0/24", "RouteType": 1},
			},
		}, err
	case "NetworkDriver.DeleteEndpoint":
		return empty, p.links(func(h *netlink.Handle) error { return delLink(h, hostEnd(req.EndpointID)) })
	}
	return nil, fmt.Errorf("unknown method %s", method)
}

// links runs f with a netlink handle in the plugin's host namespace.
func (p *Plugin) links(f func(*netlink.Handle) error) error {
	p.mu.Lock()
	host := p.host
	p.mu.Unlock()
	if host == "" {
		return nil
	}
	ns, err := netns.GetFromPath(host)
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

func makeBridge(h *netlink.Handle, name, gateway string) error {
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := h.LinkAdd(br); err != nil {
		return err
	}
	addr, err := netlink.ParseAddr(gateway)
	if err != nil {
		return err
	}
	if err := h.AddrAdd(br, addr); err != nil {
		return err
	}
	return h.LinkSetUp(br)
}

func makeVeth(h *netlink.Handle, bridge, hostName, ctrName string) error {
	br, err := h.LinkByName(bridge)
	if err != nil {
		return err
	}
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostName, MasterIndex: br.Attrs().Index}, PeerName: ctrName}
	if err := h.LinkAdd(v); err != nil {
		return err
	}
	return h.LinkSetUp(v)
}

func delLink(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return nil // gone already
	}
	return h.LinkDel(l)
}
