package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
)

// fakeNetworks is a network service of a few networks, recording what
// the routes ask of it.
type fakeNetworks struct {
	events   []string // "action name", published
	nets     []network.Inspect
	created  []network.CreateRequest
	removed  []string
	pruneF   map[string][]string
	connects []string
	pruned   []string // what Prune says it deleted
}

func newFakeNetworks() *fakeNetworks {
	mk := func(id, name, driver string, labels map[string]string, containers ...string) network.Inspect {
		n := network.Inspect{Network: network.Network{ID: id, Name: name, Driver: driver, Scope: "local", EnableIPv4: true, Labels: labels}}
		if driver == "bridge" {
			n.IPAM = network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix("172.17.0.0/16")}}}
		}
		n.Containers = map[string]network.EndpointResource{}
		for _, c := range containers {
			n.Containers[c] = network.EndpointResource{Name: c, IPv4Address: netip.MustParsePrefix("172.17.0.2/16")}
		}
		return n
	}
	return &fakeNetworks{nets: []network.Inspect{
		mk("b1", "bridge", "bridge", nil),
		mk("h1", "host", "host", nil),
		mk("n1", "none", "null", nil),
		mk("f1", "front", "bridge", map[string]string{"tier": "web"}, "c1"),
		mk("f2", "back", "bridge", map[string]string{"tier": "db", "x": ""}),
	}}
}

func (f *fakeNetworks) List(ctx context.Context, filters map[string][]string) ([]network.Summary, error) {
	var out []network.Summary
	for _, n := range f.nets {
		out = append(out, network.Summary{Network: n.Network})
	}
	return out, nil
}

func (f *fakeNetworks) Inspect(ctx context.Context, ref string) (network.Inspect, error) {
	for _, n := range f.nets {
		if n.ID == ref || n.Name == ref {
			return n, nil
		}
	}
	return network.Inspect{}, errorf(errdefs.ErrNotFound, "network %s not found", ref)
}

func (f *fakeNetworks) Create(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	if req.Name == "racy" {
		return network.CreateResponse{}, fmt.Errorf("create network %s: %w", req.Name, errdefs.ErrAlreadyExists)
	}
	f.created = append(f.created, req)
	f.nets = append(f.nets, network.Inspect{Network: network.Network{ID: "id-" + req.Name, Name: req.Name, Driver: "bridge"}})
	return network.CreateResponse{ID: "id-" + req.Name}, nil
}

func (f *fakeNetworks) Publish(m events.Message) {
	f.events = append(f.events, string(m.Action)+" "+m.Actor.Attributes["name"])
}

func (f *fakeNetworks) Remove(ctx context.Context, ref string) error {
	if _, err := f.Inspect(ctx, ref); err != nil {
		return err
	}
	f.removed = append(f.removed, ref)
	return nil
}

func (f *fakeNetworks) Prune(ctx context.Context, filters map[string][]string) (network.PruneReport, error) {
	f.pruneF = filters
	return network.PruneReport{NetworksDeleted: f.pruned}, nil
}

func (f *fakeNetworks) ConnectNetwork(ctx context.Context, container, net string, es *network.EndpointSettings) error {
	if container == "ghost" {
		return errorf(errdefs.ErrNotFound, "No such container: %s", container)
	}
	s := container + ">" + net
	if es != nil {
		s += fmt.Sprintf(" aliases=%v ip=%v mac=%v prio=%d", es.Aliases, es.IPAMConfig.IPv4Address, es.MacAddress, es.GwPriority)
	}
	f.connects = append(f.connects, s)
	return nil
}

func (f *fakeNetworks) DisconnectNetwork(ctx context.Context, container, net string, force bool) error {
	f.connects = append(f.connects, fmt.Sprintf("%s<%s force=%v", container, net, force))
	return nil
}

func networkServer(t *testing.T) (*fakeNetworks, func(method, path, body string) *httptest.ResponseRecorder) {
	t.Helper()
	fake := newFakeNetworks()
	s := New(Options{Version: "test"})
	s.AddNetworks(fake, fake, fake)
	return fake, func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
}

func TestNetworkList(t *testing.T) {
	_, do := networkServer(t)
	q := func(f string) string { return "?filters=" + url.QueryEscape(f) }
	for _, tc := range []struct {
		path string
		want []string // names, in the service's order
	}{
		{"/v1.51/networks", []string{"bridge", "host", "none", "front", "back"}},
		{"/v1.51/networks/", []string{"bridge", "host", "none", "front", "back"}},
		{"/v1.51/networks" + q(`{"type":{"custom":true}}`), []string{"front", "back"}},
		{"/v1.51/networks" + q(`{"type":{"builtin":true}}`), []string{"bridge", "host", "none"}},
		{"/v1.51/networks" + q(`{"type":{"builtin":true,"custom":true}}`), []string{"bridge", "host", "none", "front", "back"}},
		{"/v1.51/networks" + q(`{"dangling":{"true":true}}`), []string{"back"}},
		{"/v1.51/networks" + q(`{"dangling":{"false":true}}`), []string{"bridge", "host", "none", "front"}},
		{"/v1.51/networks" + q(`{"driver":{"bridge":true}}`), []string{"bridge", "front", "back"}},
		{"/v1.51/networks" + q(`{"name":{"ro":true}}`), []string{"front"}},
		{"/v1.51/networks" + q(`{"name":{"^b":true}}`), []string{"bridge", "back"}},
		{"/v1.51/networks" + q(`{"id":{"f":true}}`), []string{"front", "back"}},
		{"/v1.51/networks" + q(`{"label":{"tier":true}}`), []string{"front", "back"}},
		{"/v1.51/networks" + q(`{"label":{"tier=db":true}}`), []string{"back"}},
		{"/v1.51/networks" + q(`{"label":{"tier":true,"x":true}}`), []string{"back"}},
		{"/v1.51/networks" + q(`{"scope":{"swarm":true}}`), nil},
		{"/v1.24/networks" + q(`{"name":["front","none"]}`), []string{"none", "front"}},
	} {
		w := do("GET", tc.path, "")
		if w.Code != 200 {
			t.Errorf("GET %s: got %d %s, want 200", tc.path, w.Code, w.Body)
			continue
		}
		var got []network.Inspect
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		var names []string
		for _, n := range got {
			names = append(names, n.Name)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("GET %s: got %v, want %v", tc.path, names, tc.want)
		}
	}
}

func TestNetworkListVersions(t *testing.T) {
	_, do := networkServer(t)
	for _, tc := range []struct {
		version        string
		containers     int  // of "front"
		enableIPv4Seen bool // the field is there
	}{
		{"1.24", 1, false},
		{"1.27", 1, false},
		{"1.28", 0, false},
		{"1.47", 0, false},
		{"1.48", 0, true},
		{"1.51", 0, true},
	} {
		w := do("GET", "/v"+tc.version+"/networks", "")
		var raw []map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
			t.Fatalf("API %s: %v: %s", tc.version, err, w.Body)
		}
		front := raw[3]
		var containers map[string]network.EndpointResource
		if err := json.Unmarshal(front["Containers"], &containers); err != nil || containers == nil {
			t.Errorf("API %s: Containers: got %s, want an object", tc.version, front["Containers"])
		}
		if len(containers) != tc.containers {
			t.Errorf("API %s: got %d containers, want %d", tc.version, len(containers), tc.containers)
		}
		if _, ok := front["EnableIPv4"]; ok != tc.enableIPv4Seen {
			t.Errorf("API %s: EnableIPv4 present: got %v, want %v", tc.version, ok, tc.enableIPv4Seen)
		}
		if string(front["Labels"]) != `{"tier":"web"}` || string(raw[0]["Labels"]) != "{}" || string(raw[1]["Options"]) != "{}" {
			t.Errorf("API %s: got Labels %s and %s, Options %s, want objects", tc.version, front["Labels"], raw[0]["Labels"], raw[1]["Options"])
		}
	}
}

func TestNetworkRoutes(t *testing.T) {
	for _, tc := range []struct {
		method, path, body string
		code               int
		msg                string // part of the error message
	}{
		{"GET", "/networks/front", "", 200, ""},
		{"GET", "/networks/front?scope=local", "", 200, ""},
		{"GET", "/networks/front?scope=swarm", "", 404, "network front not found"},
		{"GET", "/networks/front?scope=bogus", "", 400, "invalid scope"},
		{"GET", "/networks/nope", "", 404, "network nope not found"},
		{"GET", "/networks" + "?filters=" + url.QueryEscape(`{"type":{"other":true}}`), "", 400, "invalid filter 'type=other'"},
		{"GET", "/networks" + "?filters=" + url.QueryEscape(`{"dangling":{"maybe":true}}`), "", 400, "invalid filter 'dangling=maybe'"},
		{"GET", "/networks" + "?filters=" + url.QueryEscape(`{"colour":{"red":true}}`), "", 400, "invalid filter 'colour'"},
		{"POST", "/networks/create", `{"Name":"new"}`, 201, ""},
		{"POST", "/v1.30/networks/create", `{"Name":"new","CheckDuplicate":false}`, 201, ""},
		{"POST", "/networks/create", `{"Name":"front"}`, 409, "network with name front already exists"},
		{"POST", "/v1.24/networks/create", `{"Name":"front","CheckDuplicate":false}`, 409, "network with name front already exists"},
		{"POST", "/networks/create", `{"Name":"racy"}`, 409, "network with name racy already exists"},
		{"POST", "/networks/create", `{"Name":"bridge"}`, 403, "operation is not permitted on predefined bridge network"},
		{"POST", "/networks/create", `{"Name":"host","Driver":"bridge"}`, 403, "predefined host network"},
		{"POST", "/networks/create", `{"Name":"v6","EnableIPv6":true}`, 501, "IPv6"},
		{"POST", "/networks/create", `{"Name":"no4","EnableIPv4":false}`, 400, "IPv4 or IPv6 must be enabled"},
		{"POST", "/v1.47/networks/create", `{"Name":"no4","EnableIPv4":false}`, 201, ""}, // the field is ignored
		{"POST", "/networks/create", `{"Name":"o","Driver":"overlay"}`, 503, "not a swarm manager"},
		{"POST", "/networks/create", `{"Name":"o","Scope":"swarm"}`, 503, "not a swarm manager"},
		{"POST", "/networks/create", `{"Name":"c","ConfigOnly":true}`, 501, "config-only"},
		{"POST", "/networks/create", `{"Name":`, 400, "invalid JSON"},
		{"DELETE", "/networks/back", "", 204, ""},
		{"DELETE", "/networks/nope", "", 404, "network nope not found"},
		{"POST", "/networks/front/connect", `{"Container":"c2"}`, 200, ""},
		{"POST", "/networks/front/connect", `{}`, 400, "no container"},
		{"POST", "/networks/front/connect", `{"Container":"ghost"}`, 404, "No such container: ghost"},
		{"POST", "/networks/front/disconnect", `{"Container":"c1","Force":true}`, 200, ""},
		{"POST", "/networks/front/disconnect", `{"Container":""}`, 400, "no container"},
		{"POST", "/networks/prune", "", 200, ""},
		{"POST", "/networks/prune?filters=" + url.QueryEscape(`{"dangling":{"true":true}}`), "", 400, "invalid filter 'dangling'"},
	} {
		_, do := networkServer(t)
		w := do(tc.method, tc.path, tc.body)
		if w.Code != tc.code {
			t.Errorf("%s %s %s: got %d %s, want %d", tc.method, tc.path, tc.body, w.Code, w.Body, tc.code)
			continue
		}
		if tc.msg != "" && !strings.Contains(w.Body.String(), tc.msg) {
			t.Errorf("%s %s %s: got %s, want a message with %q", tc.method, tc.path, tc.body, w.Body, tc.msg)
		}
	}
}

func TestNetworkCreateRequest(t *testing.T) {
	fake, do := networkServer(t)
	body := `{"Name":"web","Driver":"bridge","Internal":true,"EnableIPv4":true,"Labels":{"a":"b"},
		"Options":{"com.docker.network.bridge.name":"brweb"},
		"IPAM":{"Driver":"default","Config":[{"Subnet":"10.9.0.0/24","Gateway":"10.9.0.1","IPRange":"10.9.0.128/25"}]}}`
	if w := do("POST", "/networks/create", body); w.Code != 201 || !strings.Contains(w.Body.String(), `"Id":"id-web"`) {
		t.Fatalf("create: got %d %s, want 201 and the ID", w.Code, w.Body)
	}
	got := fake.created[0]
	want := network.CreateRequest{Name: "web", Driver: "bridge", Internal: true, EnableIPv4: got.EnableIPv4,
		Labels: map[string]string{"a": "b"}, Options: map[string]string{"com.docker.network.bridge.name": "brweb"},
		IPAM: &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix("10.9.0.0/24"),
			Gateway: netip.MustParseAddr("10.9.0.1"), IPRange: netip.MustParsePrefix("10.9.0.128/25")}}}}
	if got.EnableIPv4 == nil || !*got.EnableIPv4 || !reflect.DeepEqual(got, want) {
		t.Errorf("create: got %+v, want %+v", got, want)
	}
	if w := do("POST", "/networks/create", `{"Name":"bad","IPAM":{"Config":[{"Subnet":"10.9.0.0/33"}]}}`); w.Code != 400 {
		t.Errorf("invalid CIDR: got %d %s, want 400", w.Code, w.Body)
	}
}

func TestNetworkConnectVersions(t *testing.T) {
	body := `{"Container":"c2","EndpointConfig":{"Aliases":["db"],"IPAMConfig":{"IPv4Address":"172.17.0.9"},
		"MacAddress":"02:42:ac:11:00:09","GwPriority":5}}`
	for _, tc := range []struct{ version, want string }{
		{"1.43", "c2>front aliases=[db] ip=172.17.0.9 mac= prio=0"},
		{"1.44", "c2>front aliases=[db] ip=172.17.0.9 mac=02:42:ac:11:00:09 prio=0"},
		{"1.48", "c2>front aliases=[db] ip=172.17.0.9 mac=02:42:ac:11:00:09 prio=5"},
	} {
		fake, do := networkServer(t)
		if w := do("POST", "/v"+tc.version+"/networks/front/connect", body); w.Code != 200 {
			t.Fatalf("API %s: got %d %s, want 200", tc.version, w.Code, w.Body)
		}
		if len(fake.connects) != 1 || fake.connects[0] != tc.want {
			t.Errorf("API %s: got %v, want %q", tc.version, fake.connects, tc.want)
		}
	}
	fake, do := networkServer(t)
	do("POST", "/networks/front/disconnect", `{"Container":"c1","Force":true}`)
	if want := []string{"c1<front force=true"}; !slices.Equal(fake.connects, want) {
		t.Errorf("disconnect: got %v, want %v", fake.connects, want)
	}
}

func TestNetworkPrune(t *testing.T) {
	fake, do := networkServer(t)
	w := do("POST", "/networks/prune?filters="+url.QueryEscape(`{"until":{"24h":true},"label":{"a=b":true}}`), "")
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"NetworksDeleted":[]}` {
		t.Errorf("prune: got %d %s, want 200 and an empty list", w.Code, w.Body)
	}
	if want := map[string][]string{"until": {"24h"}, "label": {"a=b"}}; !reflect.DeepEqual(fake.pruneF, want) {
		t.Errorf("prune filters: got %v, want %v", fake.pruneF, want)
	}
	if w := do("DELETE", "/networks/f2", ""); w.Code != 204 || !slices.Equal(fake.removed, []string{"f2"}) {
		t.Errorf("remove: got %d %v, want 204 [f2]", w.Code, fake.removed)
	}
}

// FuzzNetworkRequests: any body of create, connect or disconnect, and
// any list filter, is answered (a client's mistake with 4xx), never a
// panic or a 500.
func FuzzNetworkRequests(f *testing.F) {
	f.Add(`{"Name":"web","IPAM":{"Config":[{"Subnet":"10.1.0.0/24"}]}}`, `{"type":{"custom":true}}`)
	f.Add(`{"Container":"c1","EndpointConfig":{"IPAMConfig":{"IPv4Address":"10.1.0.9"},"MacAddress":"zz"}}`, `{"name":["("]}`)
	f.Fuzz(func(t *testing.T, body, filter string) {
		_, do := networkServer(t)
		for _, p := range []string{"/networks/create", "/networks/front/connect", "/networks/front/disconnect"} {
			if w := do("POST", p, body); w.Code >= 500 && w.Code != 501 && w.Code != 503 {
				t.Fatalf("POST %s %q: got %d %s", p, body, w.Code, w.Body)
			}
		}
		if w := do("GET", "/networks?filters="+url.QueryEscape(filter), ""); w.Code >= 500 {
			t.Fatalf("GET /networks filters %q: got %d %s", filter, w.Code, w.Body)
		}
	})
}

func TestNetworkInspectFields(t *testing.T) {
	fake, do := networkServer(t)
	fake.nets[3].Status = &network.Status{IPAM: network.IPAMStatus{Subnets: network.SubnetStatuses{
		netip.MustParsePrefix("172.17.0.0/16"): {IPsInUse: 4}}}}
	for _, tc := range []struct {
		version    string
		enableIPv4 bool
	}{{"1.47", false}, {"1.48", true}, {"1.51", true}} {
		w := do("GET", "/v"+tc.version+"/networks/front", "")
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
			t.Fatalf("API %s: %v: %s", tc.version, err, w.Body)
		}
		if _, ok := raw["Status"]; ok {
			t.Errorf("API %s: got Status %s, want none (a field of API 1.52)", tc.version, raw["Status"])
		}
		if _, ok := raw["EnableIPv4"]; ok != tc.enableIPv4 {
			t.Errorf("API %s: EnableIPv4 present: got %v, want %v", tc.version, ok, tc.enableIPv4)
		}
		if !strings.Contains(string(raw["Containers"]), `"c1":{"Name":"c1"`) {
			t.Errorf("API %s: got Containers %s, want c1", tc.version, raw["Containers"])
		}
	}
}

func TestNetworkEvents(t *testing.T) {
	fake, do := networkServer(t)
	fake.pruned = []string{"back"}
	do("POST", "/networks/create", `{"Name":"new"}`)
	do("POST", "/networks/create", `{"Name":"front"}`) // refused: no event
	do("DELETE", "/networks/front", "")
	do("DELETE", "/networks/nope", "") // refused: no event
	do("POST", "/networks/prune", "")
	want := []string{"create new", "destroy front", "destroy back", "prune "}
	if !slices.Equal(fake.events, want) {
		t.Errorf("events: got %q, want %q", fake.events, want)
	}
}
