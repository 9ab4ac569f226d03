package command

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/cli/config"
	"github.com/berth-dev/berth/cli/progress"
)

// DefaultHost is berthd's socket.
const DefaultHost = "unix:///run/berth/berth.sock"

// Options are the root command's flags.
type Options struct {
	Host      string // -H; "" means $BERTH_HOST, $DOCKER_HOST, DefaultHost
	ConfigDir string // --config; "" means ~/.berth
	Debug     bool
	LogLevel  string
}

// CLI is one invocation of the berth CLI.
type CLI struct {
	In  *In
	Out *Out
	Err io.Writer
	// Version and Commit are the client's own.
	Version, Commit string
	Opts            Options
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string

	once   sync.Once
	client *client.Client
	err    error
}

// New returns a CLI over the given streams.
func New(stdin io.Reader, stdout, stderr io.Writer, version, commit string) *CLI {
	return &CLI{In: NewIn(stdin), Out: NewOut(stdout), Err: stderr, Version: version, Commit: commit}
}

func (c *CLI) getenv(k string) string {
	if c.Getenv != nil {
		return c.Getenv(k)
	}
	return os.Getenv(k)
}

// Host is the daemon's address: -H, else $BERTH_HOST, else
// $DOCKER_HOST, else DefaultHost.
func (c *CLI) Host() string {
	for _, h := range []string{c.Opts.Host, c.getenv("BERTH_HOST"), c.getenv("DOCKER_HOST")} {
		if h != "" {
			return h
		}
	}
	return DefaultHost
}

// ConfigDir is --config, else $BERTH_CONFIG, else ~/.berth.
func (c *CLI) ConfigDir() string {
	if c.Opts.ConfigDir != "" {
		return c.Opts.ConfigDir
	}
	if d := c.getenv("BERTH_CONFIG"); d != "" {
		return d
	}
	home := c.getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".berth")
}

// Client returns the API client, made at first use. The API version is
// negotiated with the daemon at the first request, unless
// $DOCKER_API_VERSION fixes it.
func (c *CLI) Client() (*client.Client, error) {
	c.once.Do(func() {
		opts := []client.Opt{
			client.WithHost(c.Host()),
			client.WithAPIVersionNegotiation(),
			client.WithUserAgent("berth-cli/" + c.Version),
			client.WithTLSClientConfigFromEnv(),
		}
		if v := c.getenv("DOCKER_API_VERSION"); v != "" {
			opts = append(opts, client.WithAPIVersion(v))
		}
		if c.Opts.Debug {
			opts = append(opts, client.WithHTTPRequestHook(func(r *http.Request) error {
				slog.Debug("api request", "method", r.Method, "url", r.URL.String())
				return nil
			}))
		}
		c.client, c.err = client.New(opts...)
		if c.err != nil {
			c.err = fmt.Errorf("invalid daemon host %q: %w", c.Host(), c.err)
		}
	})
	return c.client, c.err
}

// Close releases the client's connections.
func (c *CLI) Close() {
	if c.client != nil {
		c.client.Close()
	}
}

// Config loads config.json from the config directory.
func (c *CLI) Config() (*config.File, error) {
	return config.Load(c.ConfigDir())
}

// RegistryOf returns the registry host of an image reference, as
// config.json keys it ("docker.io" for Docker Hub's images).
func RegistryOf(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("invalid reference format: %s", ref)
	}
	return reference.Domain(named), nil
}

// EncodeAuth is the X-Registry-Auth header of credentials.
func EncodeAuth(ac registry.AuthConfig) (string, error) {
	b, err := json.Marshal(ac)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// RegistryAuth returns the X-Registry-Auth header for ref's registry,
// or "" when there are no credentials: from the credential helper
// config.json names for it, else from its auths, as the docker CLI finds
// them. A helper that cannot be run is warned about and its registry's
// auths entry used, as the docker CLI goes on without it.
func (c *CLI) RegistryAuth(ref string) (string, error) {
	host, err := RegistryOf(ref)
	if err != nil {
		return "", err
	}
	cf, err := c.Config()
	if err != nil {
		return "", err
	}
	// The helper runs under dockerconfig's timeout.
	creds, err := cf.Lookup(context.Background(), host)
	if err != nil {
		fmt.Fprintf(c.Err, "WARNING: %v\n", err)
		creds = cf.Stored(host)
	}
	if creds.IsZero() {
		return "", nil
	}
	return EncodeAuth(registry.AuthConfig{Username: creds.Username, Password: creds.Password,
		IdentityToken: creds.IdentityToken, RegistryToken: creds.RegistryToken, ServerAddress: config.Key(host)})
}

// ShowProgress renders a JSON message stream on standard output (or
// nowhere when quiet), returning the stream's error.
func (c *CLI) ShowProgress(r io.Reader, quiet bool) error {
	var out io.Writer = c.Out
	opts := progress.Options{Terminal: c.Out.IsTerminal()}
	if quiet {
		out, opts.Terminal = io.Discard, false
	}
	opts.Width, _ = c.Out.Size()
	return progress.Render(out, r, opts)
}
