package dockerconfig

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
)

// HubServer is Docker Hub's key in auths and towards helpers.
const HubServer = "https://index.docker.io/v1/"

// hubHost is the host Host gives for Docker Hub's names.
const hubHost = "docker.io"

// MaxSize bounds the config.json this package reads.
const MaxSize = 4 << 20

// Config is the part of config.json that holds credentials.
type Config struct {
	Auths       map[string]AuthEntry `json:"auths,omitempty"`
	CredHelpers map[string]string    `json:"credHelpers,omitempty"`
	CredsStore  string               `json:"credsStore,omitempty"`
}

// AuthEntry is one entry of auths: Auth is base64 of "user:password";
// the other fields are alternatives docker also reads.
type AuthEntry struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// Credentials are what a registry is authenticated with: a user and
// password, or an identity (refresh) token, or a registry (bearer) token.
type Credentials struct {
	Username      string
	Password      string
	IdentityToken string
	RegistryToken string
}

// IsZero reports whether c holds nothing.
func (c Credentials) IsZero() bool { return c == Credentials{} }

// Parse parses config.json. Empty input is an empty configuration; an
// auths entry that does not decode is an error.
func Parse(b []byte) (*Config, error) {
	var cfg Config
	if len(b) > MaxSize {
		return nil, fmt.Errorf("config is %d bytes, more than %d: %w", len(b), MaxSize, errdefs.ErrInvalidArgument)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return &cfg, nil
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("parse config: %w", invalid(err))
	}
	for key, e := range cfg.Auths {
		if _, err := e.Credentials(); err != nil {
			return nil, fmt.Errorf("auths entry %q: %w", key, err)
		}
	}
	return &cfg, nil
}

// Credentials decodes an entry.
func (e AuthEntry) Credentials() (Credentials, error) {
	c := Credentials{Username: e.Username, Password: e.Password,
		IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Auth != "" {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return Credentials{}, fmt.Errorf("auth is not base64: %w", errdefs.ErrInvalidArgument)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Credentials{}, fmt.Errorf("auth is not user:password: %w", errdefs.ErrInvalidArgument)
		}
		c.Username, c.Password = user, pass
	}
	return c, nil
}

// EntryOf is the auths entry docker writes for c: base64 "user:password"
// and, for an identity token, the token beside an empty password.
func EntryOf(c Credentials) AuthEntry {
	e := AuthEntry{IdentityToken: c.IdentityToken, RegistryToken: c.RegistryToken}
	if c.Username != "" || c.Password != "" {
		e.Auth = base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))
	}
	return e
}

// Host is the registry host a server name stands for: scheme and path
// dropped, lower case, "docker.io" for Docker Hub's names and for "".
func Host(server string) string {
	s := strings.TrimSpace(server)
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	s, _, _ = strings.Cut(s, "/")
	s = strings.ToLower(s)
	switch s {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io":
		return hubHost
	}
	return s
}

// IsHub reports whether server names Docker Hub.
func IsHub(server string) bool { return Host(server) == hubHost }

// ServerURL is the key of server's registry in auths and towards a
// credential helper: HubServer for Docker Hub, the host otherwise.
func ServerURL(server string) string {
	if h := Host(server); h != hubHost {
		return h
	}
	return HubServer
}

// Helper returns the credential helper for server's registry:
// credHelpers' entry for it, else credsStore; "" when there is none.
func (c *Config) Helper(server string) string {
	host := Host(server)
	if h := c.CredHelpers[ServerURL(host)]; h != "" {
		return h
	}
	for _, key := range sortedKeys(c.CredHelpers) {
		if Host(key) == host && c.CredHelpers[key] != "" {
			return c.CredHelpers[key]
		}
	}
	return c.CredsStore
}

// Entry returns the auths entry for server's registry and its key: the
// key docker writes wins over one that only stands for the same host.
func (c *Config) Entry(server string) (AuthEntry, string, bool) {
	key := ServerURL(server)
	if e, ok := c.Auths[key]; ok {
		return e, key, true
	}
	host := Host(server)
	for _, k := range sortedKeys(c.Auths) {
		if Host(k) == host {
			return c.Auths[k], k, true
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

// invalid classifies a decoding error as invalid input.
func invalid(err error) error { return classed(err, errdefs.ErrInvalidArgument) }
