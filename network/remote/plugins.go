package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
)

// MediaType is the plugin protocol's content type.
const MediaType = "application/vnd.docker.plugins.v1.2+json"

// maxAnswer bounds a plugin's answer read into memory.
const maxAnswer = 1 << 20

// Options configure Plugins; zero values are Docker's defaults.
type Options struct {
	SocketDirs []string // DefaultSocketDirs
	SpecDirs   []string // DefaultSpecDirs
	// Timeout bounds each call; default 30 s.
	Timeout time.Duration
	// ActivateTimeout is how long activation waits for a plugin that
	// is not listening yet; default 15 s.
	ActivateTimeout time.Duration
}

// Plugins finds and activates remote network drivers and keeps the
// activated ones. Make it with New; it is safe for concurrent use.
type Plugins struct {
	o Options

	// activating serializes activations, so concurrent first calls
	// activate a plugin once.
	activating sync.Mutex
	mu         sync.Mutex
	drivers    map[string]*Driver
}

// New returns an empty set of plugins.
func New(o Options) *Plugins {
	if o.SocketDirs == nil {
		o.SocketDirs = DefaultSocketDirs
	}
	if o.SpecDirs == nil {
		o.SpecDirs = DefaultSpecDirs
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.ActivateTimeout <= 0 {
		o.ActivateTimeout = 15 * time.Second
	}
	return &Plugins{o: o, drivers: map[string]*Driver{}}
}

// Driver is the activated network driver plugin name, found and
// activated at the first call. A plugin that fails later (its socket
// gone) is found and activated again at the next call of Driver.
func (p *Plugins) Driver(ctx context.Context, name string) (*Driver, error) {
	p.mu.Lock()
	d := p.drivers[name]
	p.mu.Unlock()
	if d != nil {
		return d, nil
	}
	p.activating.Lock()
	defer p.activating.Unlock()
	p.mu.Lock()
	d = p.drivers[name]
	p.mu.Unlock()
	if d != nil {
		return d, nil
	}
	a, err := p.find(name)
	if err != nil {
		return nil, err
	}
	d = &Driver{name: name, addr: a, http: httpClient(a), timeout: p.o.Timeout}
	var act struct{ Implements []string }
	if err := d.activate(ctx, p.o.ActivateTimeout, &act); err != nil {
		return nil, err
	}
	if !slices.Contains(act.Implements, "NetworkDriver") {
		return nil, fmt.Errorf("plugin %s does not implement NetworkDriver (it implements %v): %w", name, act.Implements, errdefs.ErrInvalidArgument)
	}
	if err := d.call(ctx, "NetworkDriver.GetCapabilities", struct{}{}, &d.caps); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drivers[name] = d
	return d, nil
}

// Forget drops an activated plugin, so the next Driver finds it again
// (after it failed, or was restarted elsewhere).
func (p *Plugins) Forget(name string) {
	p.mu.Lock()
	delete(p.drivers, name)
	p.mu.Unlock()
}

// activate calls Plugin.Activate, again while the plugin is not
// listening (its socket missing or refusing) until wait has passed.
func (d *Driver) activate(ctx context.Context, wait time.Duration, out any) error {
	deadline := time.Now().Add(wait)
	delay := 50 * time.Millisecond
	for {
		err := d.call(ctx, "Plugin.Activate", nil, out)
		if err == nil || !notListening(err) || time.Now().Add(delay).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

func notListening(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}

// Error is a plugin's answer to a failed call.
type Error struct {
	Plugin string
	Method string
	Status int
	Err    string // the plugin's {"Err": …}, or the body
}

func (e *Error) Error() string {
	return fmt.Sprintf("remote network driver %s: %s: %s", e.Plugin, e.Method, e.Err)
}

// Is makes 404 (a method the plugin does not have) ErrNotImplemented.
func (e *Error) Is(target error) bool {
	return e.Status == http.StatusNotFound && target == errdefs.ErrNotImplemented
}

// call POSTs in as JSON to /method and decodes the answer into out.
func (d *Driver) call(ctx context.Context, method string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var body io.Reader = http.NoBody
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("remote network driver %s: %s: %w", d.name, method, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.addr.baseURL()+"/"+method, body)
	if err != nil {
		return fmt.Errorf("remote network driver %s: %s: %w", d.name, method, err)
	}
	req.Header.Set("Accept", MediaType)
	req.Header.Set("Content-Type", MediaType)
	resp, err := d.http.Do(req)
	if err != nil {
		return fmt.Errorf("remote network driver %s: %s: %w", d.name, method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("remote network driver %s: %s: read answer: %w", d.name, method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return answerError(d.name, method, resp.StatusCode, b)
	}
	var e struct{ Err string }
	if json.Unmarshal(b, &e) == nil && e.Err != "" {
		return &Error{Plugin: d.name, Method: method, Status: resp.StatusCode, Err: e.Err}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("remote network driver %s: %s: decode answer: %w: %w", d.name, method, err, errdefs.ErrInvalidArgument)
	}
	return nil
}

// answerError is the error of a non-200 answer: its {"Err"} or its
// text.
func answerError(plugin, method string, status int, body []byte) error {
	var e struct{ Err string }
	msg := ""
	if json.Unmarshal(body, &e) == nil && e.Err != "" {
		msg = e.Err
	} else {
		msg = fmt.Sprintf("%s: %s", http.StatusText(status), bytes.TrimSpace(body))
	}
	return &Error{Plugin: plugin, Method: method, Status: status, Err: msg}
}
