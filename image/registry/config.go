package registry

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/berth-dev/berth/internal/dockerconfig"
)

// ConfigKeychain finds credentials in a docker-style config.json at Path,
// through internal/dockerconfig: credHelpers[host], else credsStore, run
// as docker-credential-NAME; and auths[host] when no helper is configured
// or the helper has none. A missing file means anonymous access. The file
// is read at each lookup.
type ConfigKeychain struct {
	Path string
	// LookPath finds a credential helper program by name; nil means
	// exec.LookPath.
	LookPath func(file string) (string, error)
}

var _ authn.ContextKeychain = (*ConfigKeychain)(nil)

// Resolve implements authn.Keychain.
func (k *ConfigKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

// ResolveContext implements authn.ContextKeychain.
func (k *ConfigKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	ac, err := k.Lookup(ctx, r.RegistryStr())
	if err != nil {
		return nil, err
	}
	if ac == (authn.AuthConfig{}) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(ac), nil
}

// Lookup returns the credentials for host, empty when there are none.
func (k *ConfigKeychain) Lookup(ctx context.Context, host string) (authn.AuthConfig, error) {
	f, err := dockerconfig.Load(k.Path)
	if err != nil {
		return authn.AuthConfig{}, err
	}
	c, err := f.Lookup(ctx, k.helpers(), host)
	if err != nil {
		return authn.AuthConfig{}, err
	}
	return authn.AuthConfig{Username: c.Username, Password: c.Password,
		IdentityToken: c.IdentityToken, RegistryToken: c.RegistryToken}, nil
}

// Save stores credentials for host: through the credential helper
// configured for it (credHelpers or credsStore), leaving an empty auths
// entry as Docker does, or as base64 "auth" in auths. Other contents of
// the file are kept. The file is replaced atomically with mode 0600.
func (k *ConfigKeychain) Save(ctx context.Context, host, user, secret string) error {
	f, err := dockerconfig.Load(k.Path)
	if err != nil {
		return err
	}
	if err := f.Store(ctx, k.helpers(), host, dockerconfig.Credentials{Username: user, Password: secret}); err != nil {
		return err
	}
	return f.Save()
}

// Erase removes host's credentials from the file and from its helper. A
// host with neither a helper nor an auths entry is errdefs.ErrNotFound.
func (k *ConfigKeychain) Erase(ctx context.Context, host string) error {
	f, err := dockerconfig.Load(k.Path)
	if err != nil {
		return err
	}
	found, err := f.Erase(ctx, k.helpers(), host)
	if err != nil {
		return err
	}
	if !found && f.Config().Helper(host) == "" {
		return fmt.Errorf("not logged in to %s: %w", LoginHost(host), errdefs.ErrNotFound)
	}
	return f.Save()
}

func (k *ConfigKeychain) helpers() dockerconfig.Helpers {
	return dockerconfig.Helpers{LookPath: k.LookPath}
}

// authKeyHost turns a config.json key or a login server ("host",
// "https://host/v1/") into the host it stands for, Docker Hub's names
// as go-containerregistry's.
func authKeyHost(key string) string {
	return canonicalHost(dockerconfig.Host(key))
}
