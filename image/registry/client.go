package registry

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/singleflight"
)

// DefaultRetries is the number of retries of a transient failure when
// Options.Retries is zero.
const DefaultRetries = 3

const defaultRetryDelay = 200 * time.Millisecond

// Options configure a Client.
type Options struct {
	// Keychain finds credentials for a registry host. Nil means
	// ConfigKeychain{Path: ConfigPath} when ConfigPath is set, and
	// anonymous access otherwise.
	Keychain authn.Keychain
	// ConfigPath is a docker-style config.json, used when Keychain is nil.
	ConfigPath string
	// Mirrors maps a registry host to mirror hosts ("host[:port]") that
	// reads try first, in order. "docker.io" means Docker Hub.
	Mirrors map[string][]string
	// Insecure lists hosts ("host", "host:port") and networks ("CIDR")
	// reached over plain HTTP or TLS without verification. Loopback hosts
	// always are.
	Insecure []string
	// Transport carries the requests; nil means a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// UserAgent is sent with every request.
	UserAgent string
	// Retries is how often a transient failure (connection reset,
	// truncated body, 408, 429, 5xx) is retried: 0 means DefaultRetries,
	// a negative number none.
	Retries int
	// RetryDelay is the first pause before a retry, doubled for each
	// further one; zero means 200ms.
	RetryDelay time.Duration
}

// Client talks to registries. It is safe for concurrent use.
type Client struct {
	keychain   authn.Keychain
	mirrors    map[string][]string
	hosts      *hostPolicy
	base       http.RoundTripper
	retries    int
	retryDelay time.Duration

	flight     singleflight.Group
	mu         sync.Mutex
	transports map[string]http.RoundTripper
}

// New returns a client configured by opts. An Insecure entry that is
// neither a host nor a CIDR is ignored.
func New(opts Options) *Client {
	c := &Client{
		keychain:   opts.Keychain,
		mirrors:    map[string][]string{},
		hosts:      newHostPolicy(opts.Insecure),
		retries:    opts.Retries,
		retryDelay: opts.RetryDelay,
		transports: map[string]http.RoundTripper{},
	}
	if c.keychain == nil {
		if opts.ConfigPath != "" {
			c.keychain = &ConfigKeychain{Path: opts.ConfigPath}
		} else {
			c.keychain = authn.NewMultiKeychain()
		}
	}
	if c.retries == 0 {
		c.retries = DefaultRetries
	} else if c.retries < 0 {
		c.retries = 0
	}
	if c.retryDelay <= 0 {
		c.retryDelay = defaultRetryDelay
	}
	for reg, ms := range opts.Mirrors {
		key := canonicalHost(reg)
		for _, m := range ms {
			host, plain := mirrorHost(m)
			if host == "" {
				continue
			}
			if plain {
				c.hosts.allow(host)
			}
			c.mirrors[key] = append(c.mirrors[key], host)
		}
	}
	g := &guard{hosts: c.hosts}
	g.secure, g.insecure = baseTransports(opts.Transport)
	c.base = transport.NewUserAgent(g, opts.UserAgent)
	return c
}

// baseTransports returns the transport for verified TLS and the one for
// insecure hosts (TLS without verification). A caller's transport that is
// not an *http.Transport is used for both.
func baseTransports(rt http.RoundTripper) (secure, insecure http.RoundTripper) {
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return rt, rt
	}
	it := t.Clone()
	if it.TLSClientConfig == nil {
		it.TLSClientConfig = &tls.Config{}
	}
	it.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // only for hosts configured insecure
	return t, it
}

// guard routes a request to the secure or insecure base transport and
// refuses plain HTTP to hosts not configured insecure, so neither a
// redirect nor a token realm can downgrade a secure registry.
type guard struct {
	hosts            *hostPolicy
	secure, insecure http.RoundTripper
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if g.hosts.plainHTTP(req.URL.Host) {
		return g.insecure.RoundTrip(req)
	}
	if req.URL.Scheme != "https" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("refusing %s://%s: not an insecure registry, only https is allowed", req.URL.Scheme, req.URL.Host)
	}
	return g.secure.RoundTrip(req)
}

// registry returns go-containerregistry's name for host, marked insecure
// when plain HTTP is allowed so its ping falls back to http.
func (c *Client) registry(host string) (name.Registry, error) {
	var opts []name.Option
	if c.hosts.plainHTTP(host) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return name.Registry{}, fmt.Errorf("registry host %q: %w", host, invalid(err))
	}
	return reg, nil
}

// transport returns an authenticated transport for host with scopes,
// creating it once (ping, credentials, first token) and caching it. Bearer
// transports refresh their token themselves when it expires.
//
// The cache key includes a fingerprint of the credentials the keychain
// gives for this request, so a token fetched with one caller's
// credentials never serves another's (berthd takes them per request).
func (c *Client) transport(ctx context.Context, host string, scopes []string) (http.RoundTripper, error) {
	reg, auth, who, err := c.credentials(ctx, host)
	if err != nil {
		return nil, err
	}
	key := host + "\x00" + strings.Join(scopes, " ") + "\x00" + who
	c.mu.Lock()
	rt := c.transports[key]
	c.mu.Unlock()
	if rt != nil {
		return rt, nil
	}
	v, err, _ := c.flight.Do(key, func() (any, error) {
		rt, err := c.newTransport(ctx, host, reg, auth, scopes)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.transports[key] = rt
		c.mu.Unlock()
		return rt, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(http.RoundTripper), nil
}

// credentials resolves, once per request (a keychain may run a
// credential helper), what the keychain holds for host, with a
// fingerprint of it.
func (c *Client) credentials(ctx context.Context, host string) (name.Registry, authn.Authenticator, string, error) {
	reg, err := c.registry(host)
	if err != nil {
		return reg, nil, "", err
	}
	auth, err := authn.Resolve(ctx, c.keychain, reg)
	if err != nil {
		return reg, nil, "", fmt.Errorf("credentials for %s: %w", host, err)
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil {
		return reg, nil, "", fmt.Errorf("credentials for %s: %w", host, err)
	}
	data, _ := json.Marshal(cfg)
	sum := sha256.Sum256(data)
	return reg, auth, hex.EncodeToString(sum[:8]), nil
}

func (c *Client) newTransport(ctx context.Context, host string, reg name.Registry, auth authn.Authenticator, scopes []string) (http.RoundTripper, error) {
	var rt http.RoundTripper
	err := c.retry(ctx, func() error {
		var err error
		rt, err = transport.NewWithContext(ctx, reg, auth, c.base, scopes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("authenticate to %s: %w", host, classify(err))
	}
	return rt, nil
}

// retry runs op until it succeeds, fails permanently, or has been retried
// c.retries times, pausing with exponential backoff between attempts.
func (c *Client) retry(ctx context.Context, op func() error) error {
	delay := c.retryDelay
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil || attempt >= c.retries || !transient(err) || ctx.Err() != nil {
			return err
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay *= 2
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
