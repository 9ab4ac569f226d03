package server

import (
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/daemon/containers"
)

// list answers GET /containers/json.
func (cr *containerRouter) list(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	limit, err := intValue(r, "limit", 0)
	if err != nil {
		return err
	}
	if limit < -1 {
		return errorf(errdefs.ErrInvalidArgument, "invalid value for limit: %d", limit)
	}
	out, err := cr.b.List(r.Context(), containers.ListOptions{
		All: boolValue(r, "all"), Limit: int(limit), Size: boolValue(r, "size"), Filters: f,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// legacyNetworkSettings carries the fields API versions before 1.52 send
// at the top of NetworkSettings (deprecated since 1.21): the endpoint on
// the default bridge network, as dockerd fills them, else empty.
type legacyNetworkSettings struct {
	container.NetworkSettings
	Bridge                 string
	HairpinMode            bool
	LinkLocalIPv6Address   string
	LinkLocalIPv6PrefixLen int
	SecondaryIPAddresses   []legacyAddress
	SecondaryIPv6Addresses []legacyAddress
	EndpointID             string
	Gateway                string
	GlobalIPv6Address      string
	GlobalIPv6PrefixLen    int
	IPAddress              string
	IPPrefixLen            int
	IPv6Gateway            string
	MacAddress             string
}

// legacyAddress is an address of the deprecated fields.
type legacyAddress struct {
	Addr      string
	PrefixLen int
}

// inspectLegacy is an inspect answer for API versions before 1.52.
type inspectLegacy struct {
	container.InspectResponse
	NetworkSettings *legacyNetworkSettings
}

// inspect answers GET /containers/{id}/json.
func (cr *containerRouter) inspect(w http.ResponseWriter, r *http.Request) error {
	resp, err := cr.b.Inspect(r.Context(), r.PathValue("id"), boolValue(r, "size"))
	if err != nil {
		return err
	}
	if versionBefore(r.Context(), "1.52") && resp.NetworkSettings != nil {
		return writeJSON(w, http.StatusOK, inspectLegacy{InspectResponse: resp,
			NetworkSettings: legacyNetwork(*resp.NetworkSettings)})
	}
	return writeJSON(w, http.StatusOK, resp)
}

// legacyNetwork fills the deprecated top-level fields from the endpoint
// on the default bridge network.
func legacyNetwork(ns container.NetworkSettings) *legacyNetworkSettings {
	l := &legacyNetworkSettings{NetworkSettings: ns}
	ep := ns.Networks["bridge"]
	if ep == nil || !ep.IPAddress.IsValid() {
		return l
	}
	l.EndpointID, l.IPAddress, l.IPPrefixLen = ep.EndpointID, ep.IPAddress.String(), ep.IPPrefixLen
	if ep.Gateway.IsValid() {
		l.Gateway = ep.Gateway.String()
	}
	if len(ep.MacAddress) > 0 {
		l.MacAddress = ep.MacAddress.String()
	}
	return l
}
