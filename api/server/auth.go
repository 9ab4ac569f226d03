package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	apiregistry "github.com/moby/moby/api/types/registry"

	"github.com/berth-dev/berth/image/registry"
)

// maxAuthHeader bounds X-Registry-Auth.
const maxAuthHeader = 64 << 10

// decodeAuth decodes an X-Registry-Auth header: base64url (padded or
// not) of a JSON AuthConfig. An empty header means no credentials.
func decodeAuth(h string) (apiregistry.AuthConfig, error) {
	var ac apiregistry.AuthConfig
	h = strings.TrimSpace(h)
	if h == "" {
		return ac, nil
	}
	if len(h) > maxAuthHeader {
		return ac, errorf(errdefs.ErrInvalidArgument, "invalid X-Registry-Auth header: longer than %d bytes", maxAuthHeader)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(h, "="))
	if err != nil {
		// Some clients send standard base64.
		if raw, err = base64.StdEncoding.DecodeString(h); err != nil {
			return ac, errorf(errdefs.ErrInvalidArgument, "invalid X-Registry-Auth header: not base64url")
		}
	}
	if err := json.Unmarshal(raw, &ac); err != nil {
		return ac, errorf(errdefs.ErrInvalidArgument, "invalid X-Registry-Auth header: %v", err)
	}
	if ac.Auth != "" && ac.Username == "" {
		if b, err := base64.StdEncoding.DecodeString(ac.Auth); err == nil {
			ac.Username, ac.Password, _ = strings.Cut(string(b), ":")
		}
	}
	return ac, nil
}

type authKey struct{}

// withRequestAuth puts the request's X-Registry-Auth credentials in its
// context, where the keychain finds them.
func withRequestAuth(r *http.Request) (context.Context, error) {
	ac, err := decodeAuth(r.Header.Get(apiregistry.AuthHeader))
	if err != nil {
		return nil, err
	}
	if ac == (apiregistry.AuthConfig{}) {
		return r.Context(), nil
	}
	return context.WithValue(r.Context(), authKey{}, ac), nil
}

// Keychain returns the keychain berthd gives its registry client: the
// credentials of the API request in progress (X-Registry-Auth), for the
// registry they were given for, and nothing else, never a config.json
// of the host.
//
// The authenticator it returns reads the credentials at each request
// from that request's context, so a registry client that caches
// transports per host still sends each API request's own credentials
// with basic auth. (A bearer token fetched with one request's
// credentials stays in that cached transport until it expires.)
func Keychain() authn.Keychain { return requestKeychain{} }

type requestKeychain struct{}

var _ authn.ContextKeychain = requestKeychain{}

func (requestKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return requestAuth{host: r.RegistryStr()}, nil
}

func (requestKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	return requestAuth{host: r.RegistryStr()}, nil
}

// requestAuth is the credentials of whichever request is in progress.
type requestAuth struct{ host string }

var _ authn.ContextAuthenticator = requestAuth{}

// Authorization without a request: anonymous.
func (requestAuth) Authorization() (*authn.AuthConfig, error) { return &authn.AuthConfig{}, nil }

func (a requestAuth) AuthorizationContext(ctx context.Context) (*authn.AuthConfig, error) {
	ac, ok := ctx.Value(authKey{}).(apiregistry.AuthConfig)
	if !ok {
		return &authn.AuthConfig{}, nil
	}
	if ac.ServerAddress != "" && registry.LoginHost(ac.ServerAddress) != registry.LoginHost(a.host) {
		return &authn.AuthConfig{}, nil
	}
	return &authn.AuthConfig{
		Username: ac.Username, Password: ac.Password,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken,
	}, nil
}
