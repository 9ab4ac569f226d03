package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
)

// NetworkBackend is what the network routes ask of the network service
// (network.Service). List applies the filters it is given; the routes
// check their keys and values first, and apply them again (so a service
// that ignores one still answers what the filter asked).
type NetworkBackend interface {
	List(ctx context.Context, filters map[string][]string) ([]network.Summary, error)
	// Inspect finds a network by full ID, name or unique ID prefix, in
	// that order; its Containers come from the endpoints.
	Inspect(ctx context.Context, ref string) (network.Inspect, error)
	// Create refuses a name in use (errdefs.ErrAlreadyExists).
	Create(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error)
	Remove(ctx context.Context, ref string) error
	Prune(ctx context.Context, filters map[string][]string) (network.PruneReport, error)
}

// NetworkConnector is what connect and disconnect ask of the container
// service: it joins a created or running container to one more network
// (recorded in its NetworkingConfig, and attached now when it runs), or
// takes it off one.
type NetworkConnector interface {
	ConnectNetwork(ctx context.Context, container, network string, settings *network.EndpointSettings) error
	DisconnectNetwork(ctx context.Context, container, network string, force bool) error
}

type networkRouter struct {
	b  NetworkBackend
	c  NetworkConnector
	ev EventPublisher // nil: no events
}

// AddNetworks adds the /networks routes. Create, remove and prune are
// published as network events (connect and disconnect are the container
// service's to publish).
func (s *Server) AddNetworks(b NetworkBackend, c NetworkConnector, ev EventPublisher) {
	nr := &networkRouter{b: b, c: c, ev: ev}
	s.handle("GET /networks", nr.list)
	s.handle("GET /networks/{$}", nr.list)
	s.handle("POST /networks/create", nr.create)
	s.handle("POST /networks/prune", nr.prune)
	s.handle("GET /networks/{id}", nr.inspect)
	s.handle("DELETE /networks/{id}", nr.remove)
	s.handle("POST /networks/{id}/connect", nr.connect)
	s.handle("POST /networks/{id}/disconnect", nr.disconnect)
}

// predefinedNetworks are the networks every daemon has; no request may
// make, or take, one of these names.
var predefinedNetworks = map[string]bool{"bridge": true, "host": true, "none": true, "default": true}

func (nr *networkRouter) list(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := filters(r, "dangling", "driver", "id", "label", "name", "scope", "type")
	if err != nil {
		return err
	}
	m, err := newNetworkMatcher(f)
	if err != nil {
		return err
	}
	items, err := nr.b.List(ctx, f)
	if err != nil {
		return err
	}
	// Before API 1.28 the list named each network's containers; the
	// dangling filter needs them too.
	withContainers := versionBefore(ctx, "1.28") || m.dangling != nil
	out := make([]network.Inspect, 0, len(items))
	for _, it := range items {
		n := network.Inspect{Network: it.Network}
		if withContainers {
			full, err := nr.b.Inspect(ctx, it.ID)
			if errdefs.IsNotFound(err) {
				continue // removed meanwhile
			}
			if err != nil {
				return err
			}
			n.Containers = full.Containers
		}
		if !m.match(n) {
			continue
		}
		if !versionBefore(ctx, "1.28") {
			n.Containers = nil
		}
		out = append(out, n)
	}
	versioned := make([]any, len(out))
	for i := range out {
		versioned[i] = networkForVersion(ctx, out[i])
	}
	return writeJSON(w, http.StatusOK, versioned)
}

func (nr *networkRouter) inspect(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	scope := r.URL.Query().Get("scope")
	switch scope {
	case "", "local", "swarm", "global":
	default:
		return errorf(errdefs.ErrInvalidArgument, "invalid scope %q: must be local, swarm or global", scope)
	}
	n, err := nr.b.Inspect(ctx, id)
	if err != nil {
		return err
	}
	if scope != "" && scope != n.Scope {
		return errorf(errdefs.ErrNotFound, "network %s not found", id)
	}
	// verbose adds swarm services and their tasks; there are none.
	return writeJSON(w, http.StatusOK, networkForVersion(ctx, n))
}

// networkCreateRequest is POST /networks/create's body in every version:
// CheckDuplicate went away in API 1.44.
type networkCreateRequest struct {
	network.CreateRequest
	CheckDuplicate *bool `json:",omitempty"`
}

func (nr *networkRouter) create(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var body networkCreateRequest
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	req := body.CreateRequest
	if versionBefore(ctx, "1.48") {
		req.EnableIPv4 = nil // a field of API 1.48
	}
	if err := checkNetworkCreate(req); err != nil {
		return err
	}
	// Whatever CheckDuplicate said (before 1.44 a client could ask for no
	// check), a name is one network's, as dockerd has it since 1.44:
	// names are what containers, DNS and users refer to networks by.
	if err := nr.checkNameFree(ctx, req.Name); err != nil {
		return err
	}
	resp, err := nr.b.Create(ctx, req)
	if errdefs.IsAlreadyExists(err) {
		return withMessage(err, "network with name "+req.Name+" already exists")
	}
	if err != nil {
		return err
	}
	if n, err := nr.b.Inspect(ctx, resp.ID); err == nil {
		nr.publish(events.ActionCreate, n.Network)
	}
	return writeJSON(w, http.StatusCreated, resp)
}

// checkNetworkCreate refuses what no network driver of berth's can make
// (the service checks names, drivers and addresses).
func checkNetworkCreate(req network.CreateRequest) error {
	switch {
	case predefinedNetworks[req.Name]:
		return errorf(errdefs.ErrPermissionDenied, "operation is not permitted on predefined %s network", req.Name)
	case req.Scope == "swarm" || req.Scope == "global" || req.Ingress || req.Driver == "overlay":
		return errorf(errdefs.ErrUnavailable, "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.")
	case req.Scope != "" && req.Scope != "local":
		return errorf(errdefs.ErrInvalidArgument, "invalid scope %q: must be local", req.Scope)
	case req.ConfigOnly || req.ConfigFrom != nil && req.ConfigFrom.Network != "":
		return errorf(errdefs.ErrNotImplemented, "config-only networks are not supported by berth")
	case req.EnableIPv6 != nil && *req.EnableIPv6:
		return errorf(errdefs.ErrNotImplemented, "IPv6 networks are not supported by berth yet")
	case req.EnableIPv4 != nil && !*req.EnableIPv4:
		return errorf(errdefs.ErrInvalidArgument, "IPv4 or IPv6 must be enabled")
	}
	return nil
}

// checkNameFree answers a name in use with dockerd's 409, before the
// service is asked (which refuses it too, against races).
func (nr *networkRouter) checkNameFree(ctx context.Context, name string) error {
	items, err := nr.b.List(ctx, map[string][]string{})
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.Name == name {
			return errorf(errdefs.ErrAlreadyExists, "network with name %s already exists", name)
		}
	}
	return nil
}

func (nr *networkRouter) remove(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	n, _ := nr.b.Inspect(ctx, r.PathValue("id")) // for the event; Remove says why it cannot
	if err := nr.b.Remove(ctx, r.PathValue("id")); err != nil {
		return err
	}
	nr.publish(events.ActionDestroy, n.Network)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// publish records a network event, with dockerd's attributes.
func (nr *networkRouter) publish(action events.Action, n network.Network) {
	if nr.ev == nil || n.ID == "" {
		return
	}
	nr.ev.Publish(events.Message{Type: events.NetworkEventType, Action: action,
		Actor: events.Actor{ID: n.ID, Attributes: map[string]string{"name": n.Name, "type": n.Driver}}})
}

func (nr *networkRouter) connect(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var req network.ConnectRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.Container == "" {
		return errorf(errdefs.ErrInvalidArgument, "no container given to connect")
	}
	if es := req.EndpointConfig; es != nil {
		if versionBefore(ctx, "1.44") {
			es.MacAddress = nil // a field of API 1.44
		}
		if versionBefore(ctx, "1.48") {
			es.GwPriority = 0 // a field of API 1.48
		}
	}
	if err := nr.c.ConnectNetwork(ctx, req.Container, r.PathValue("id"), req.EndpointConfig); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (nr *networkRouter) disconnect(w http.ResponseWriter, r *http.Request) error {
	var req network.DisconnectRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.Container == "" {
		return errorf(errdefs.ErrInvalidArgument, "no container given to disconnect")
	}
	if err := nr.c.DisconnectNetwork(r.Context(), req.Container, r.PathValue("id"), req.Force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (nr *networkRouter) prune(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r, "until", "label", "label!")
	if err != nil {
		return err
	}
	ctx := r.Context()
	before, err := nr.b.List(ctx, map[string][]string{})
	if err != nil {
		return err
	}
	rep, err := nr.b.Prune(ctx, f)
	if err != nil {
		return err
	}
	rep.NetworksDeleted = nonNil(rep.NetworksDeleted)
	for _, n := range before {
		if slices.Contains(rep.NetworksDeleted, n.Name) {
			nr.publish(events.ActionDestroy, n.Network)
		}
	}
	if nr.ev != nil {
		nr.ev.Publish(events.Message{Type: events.NetworkEventType, Action: events.ActionPrune,
			Actor: events.Actor{Attributes: map[string]string{"reclaimed": "0"}}})
	}
	return writeJSON(w, http.StatusOK, rep)
}

// networkForVersion is n as the request's API version shows it: empty
// maps as {} (dockerd never writes null there), no Status (the address
// use, a field of API 1.52, past berthd's MaxAPIVersion) and no
// EnableIPv4 before API 1.48, which added it.
func networkForVersion(ctx context.Context, n network.Inspect) any {
	n.Status = nil
	if n.Options == nil {
		n.Options = map[string]string{}
	}
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	if n.Containers == nil {
		n.Containers = map[string]network.EndpointResource{}
	}
	if n.IPAM.Config == nil {
		n.IPAM.Config = []network.IPAMConfig{}
	}
	if !versionBefore(ctx, "1.48") {
		return n
	}
	b, err := json.Marshal(n)
	if err != nil {
		return n
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return n
	}
	delete(fields, "EnableIPv4")
	return fields
}
