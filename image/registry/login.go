package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// LoginHost turns what a user gives `login` ("", "docker.io",
// "https://index.docker.io/v1/", "host:port") into a registry host.
func LoginHost(server string) string {
	if strings.TrimSpace(server) == "" {
		return dockerHub
	}
	return authKeyHost(server)
}

// Login checks user and password against host: the registry's
// authentication handshake (basic, or a token request without scopes, as
// docker login makes), then GET /v2/. Wrong credentials give an error
// wrapping errdefs.ErrUnauthenticated. Storing them is the caller's job
// (ConfigKeychain.Save).
func (c *Client) Login(ctx context.Context, host, user, pass string) error {
	host = LoginHost(host)
	if user == "" || pass == "" {
		return fmt.Errorf("login to %s: username and password are required: %w", host, errdefs.ErrInvalidArgument)
	}
	reg, err := c.registry(host)
	if err != nil {
		return err
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})
	var rt http.RoundTripper
	err = c.retry(ctx, func() error {
		var err error
		rt, err = transport.NewWithContext(ctx, reg, auth, c.base, nil)
		return err
	})
	if err == nil {
		err = c.retry(ctx, func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.scheme(host)+"://"+host+"/v2/", nil)
			if err != nil {
				return invalid(err)
			}
			resp, err := c.do(rt, req, http.StatusOK)
			if err != nil {
				return err
			}
			return resp.Body.Close()
		})
	}
	if err != nil {
		return fmt.Errorf("login to %s as %s: %w", host, user, classify(err))
	}
	return nil
}
