package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
)

// dockerHubAuthKey is the key Docker uses for Docker Hub in config.json
// and with credential helpers.
const dockerHubAuthKey = "https://index.docker.io/v1/"

// maxConfigSize bounds the config.json read.
const maxConfigSize = 4 << 20

// Config is the part of a docker-style config.json that holds
// credentials.
type Config struct {
	Auths       map[string]AuthEntry `json:"auths,omitempty"`
	CredHelpers map[string]string    `json:"credHelpers,omitempty"`
	CredsStore  string               `json:"credsStore,omitempty"`
}

// AuthEntry is one entry of config.json's auths: "auth" is base64 of
// "user:password"; the other fields are alternatives.
type AuthEntry struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// ParseConfig parses a docker-style config.json.
func ParseConfig(b []byte) (*Config, error) {
	var cfg Config
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("config is %d bytes, more than %d: %w", len(b), maxConfigSize, errdefs.ErrInvalidArgument)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return &cfg, nil
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("parse config: %w", invalid(err))
	}
	for key, e := range cfg.Auths {
		if _, err := e.credentials(); err != nil {
			return nil, fmt.Errorf("auths entry %q: %w", key, err)
		}
	}
	return &cfg, nil
}

// credentials decodes an entry.
func (e AuthEntry) credentials() (authn.AuthConfig, error) {
	ac := authn.AuthConfig{Username: e.Username, Password: e.Password,
		IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Auth != "" {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return authn.AuthConfig{}, fmt.Errorf("auth is not base64: %w", errdefs.ErrInvalidArgument)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return authn.AuthConfig{}, fmt.Errorf("auth is not user:password: %w", errdefs.ErrInvalidArgument)
		}
		ac.Username, ac.Password = user, pass
	}
	return ac, nil
}

// authKeyHost turns a config.json auths key ("host", "https://host/v1/")
// into the host it stands for.
func authKeyHost(key string) string {
	k := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(key), "https://"), "http://")
	k, _, _ = strings.Cut(k, "/")
	return canonicalHost(strings.ToLower(k))
}

// serverURL is the name a credential helper and config.json use for host.
func serverURL(host string) string {
	if canonicalHost(host) == dockerHub {
		return dockerHubAuthKey
	}
	return host
}

// ConfigKeychain finds credentials in a docker-style config.json at Path:
// credHelpers[host], else credsStore, run as docker-credential-NAME; and
// auths[host] when no helper is configured or the helper has none. A
// missing file means anonymous access. The file is read at each lookup.
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
	cfg, err := k.load()
	if err != nil {
		return authn.AuthConfig{}, err
	}
	host = canonicalHost(strings.ToLower(host))
	if helper := cfg.helper(host); helper != "" {
		ac, found, err := k.helperGet(ctx, helper, serverURL(host))
		if err != nil || found {
			return ac, err
		}
	}
	if e, _, ok := cfg.entry(host); ok {
		return e.credentials()
	}
	return authn.AuthConfig{}, nil
}

func (k *ConfigKeychain) load() (*Config, error) {
	b, err := readConfig(k.Path)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Path, err)
	}
	return cfg, nil
}

func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry credentials: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// helper returns the credential helper configured for host.
func (cfg *Config) helper(host string) string {
	for _, key := range sortedKeys(cfg.CredHelpers) {
		if authKeyHost(key) == host && cfg.CredHelpers[key] != "" {
			return cfg.CredHelpers[key]
		}
	}
	return cfg.CredsStore
}

// entry returns the auths entry for host and its key; an exact key wins
// over one that only normalises to host.
func (cfg *Config) entry(host string) (AuthEntry, string, bool) {
	if e, ok := cfg.Auths[serverURL(host)]; ok {
		return e, serverURL(host), true
	}
	for _, key := range sortedKeys(cfg.Auths) {
		if authKeyHost(key) == host {
			return cfg.Auths[key], key, true
		}
	}
	return AuthEntry{}, "", false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (k *ConfigKeychain) lookPath(file string) (string, error) {
	if k.LookPath != nil {
		return k.LookPath(file)
	}
	return exec.LookPath(file)
}
