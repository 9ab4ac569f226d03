package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/berth-dev/berth/internal/fsutil"
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

// Save stores credentials for host: through the credential helper
// configured for it (credHelpers or credsStore), leaving an empty auths
// entry as Docker does, or as base64 "auth" in auths. Other contents of
// the file are kept. The file is replaced atomically with mode 0600.
func (k *ConfigKeychain) Save(ctx context.Context, host, user, secret string) error {
	host = LoginHost(host)
	return k.update(func(cfg *Config, auths map[string]json.RawMessage) error {
		_, key, ok := cfg.entry(host)
		if !ok {
			key = serverURL(host)
		}
		entry := AuthEntry{}
		if helper := cfg.helper(host); helper != "" {
			if err := k.helperStore(ctx, helper, serverURL(host), user, secret); err != nil {
				return err
			}
		} else {
			entry.Auth = base64.StdEncoding.EncodeToString([]byte(user + ":" + secret))
		}
		b, err := json.Marshal(entry)
		if err != nil {
			return err
		}
		auths[key] = b
		return nil
	})
}

// Erase removes host's credentials from the file and from its helper.
func (k *ConfigKeychain) Erase(ctx context.Context, host string) error {
	host = LoginHost(host)
	return k.update(func(cfg *Config, auths map[string]json.RawMessage) error {
		if helper := cfg.helper(host); helper != "" {
			if err := k.helperErase(ctx, helper, serverURL(host)); err != nil {
				return err
			}
		}
		found := false
		for key := range auths {
			if authKeyHost(key) == host {
				delete(auths, key)
				found = true
			}
		}
		if !found && cfg.helper(host) == "" {
			return fmt.Errorf("not logged in to %s: %w", host, errdefs.ErrNotFound)
		}
		return nil
	})
}

// update reads the config, lets fn change its auths (as raw entries, so
// fields this package does not know survive), and writes it back.
func (k *ConfigKeychain) update(fn func(*Config, map[string]json.RawMessage) error) error {
	b, err := readConfig(k.Path)
	if err != nil {
		return err
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return fmt.Errorf("%s: %w", k.Path, err)
	}
	top := map[string]json.RawMessage{}
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &top); err != nil {
			return fmt.Errorf("%s: %w", k.Path, invalid(err))
		}
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := top["auths"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return fmt.Errorf("%s: auths: %w", k.Path, invalid(err))
		}
	}
	if err := fn(cfg, auths); err != nil {
		return err
	}
	if top["auths"], err = json.Marshal(auths); err != nil {
		return err
	}
	out, err := json.MarshalIndent(top, "", "\t")
	if err != nil {
		return err
	}
	return writeFileAtomic(k.Path, append(out, '\n'), 0o600)
}

// writeFileAtomic makes path's directory (0700) and writes path
// atomically.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, data, mode)
}
