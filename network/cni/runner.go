package cni

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
)

// Options configure a Runner.
type Options struct {
	// ConfDir is where Load finds configurations; default /etc/cni/net.d.
	ConfDir string
	// Path are the plugin directories; default /usr/lib/cni.
	Path []string
	// CacheDir holds the attachments (required; berthd: DATA/cni).
	CacheDir string
	// NetNS is the network namespace plugins run in, as a path; empty:
	// the caller's.
	NetNS string
	// Timeout bounds each plugin call; default 60 s.
	Timeout time.Duration
}

// Runner runs the plugins of CNI networks. Make it with New; it is safe
// for concurrent use (one attachment's calls are serialized).
type Runner struct {
	o Options

	mu    sync.Mutex
	locks map[string]*sync.Mutex // by cache key
}

// New makes a Runner.
func New(o Options) (*Runner, error) {
	if o.CacheDir == "" {
		return nil, fmt.Errorf("cni: a cache directory is required: %w", errdefs.ErrInvalidArgument)
	}
	if o.ConfDir == "" {
		o.ConfDir = "/etc/cni/net.d"
	}
	if len(o.Path) == 0 {
		o.Path = []string{"/usr/lib/cni"}
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	return &Runner{o: o, locks: map[string]*sync.Mutex{}}, nil
}

// Load is the configuration of network name in the configuration
// directory.
func (r *Runner) Load(name string) (*List, error) { return LoadList(r.o.ConfDir, name) }

// Attachment is a container's interface on a CNI network: the runtime's
// side of a call.
type Attachment struct {
	ContainerID string
	// NetNS is the container's network namespace (/proc/PID/ns/net);
	// DEL may go without it when the namespace is gone.
	NetNS  string
	IfName string // eth0, …
	// Args are CNI_ARGS (K=V pairs; IgnoreUnknown=1 is added).
	Args [][2]string
	// PortMappings go to plugins with the portMappings capability.
	PortMappings []PortMapping
	// IPs and MAC go to plugins with the ips and mac capabilities
	// (static addresses: --ip, --mac-address).
	IPs []netip.Prefix
	MAC string
}

// PortMapping is a published port, in the portMappings capability's
// form.
type PortMapping struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// lock serializes the calls of one attachment.
func (r *Runner) lock(k string) func() {
	r.mu.Lock()
	m := r.locks[k]
	if m == nil {
		m = &sync.Mutex{}
		r.locks[k] = m
	}
	r.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// Add runs ADD for each plugin of l in order and returns the last
// result. On error the plugins that ran are deleted again (and the cache
// entry with them, when that succeeds).
func (r *Runner) Add(ctx context.Context, l *List, a Attachment) (_ *Result, err error) {
	if a.NetNS == "" {
		return nil, fmt.Errorf("cni network %s: ADD needs the container's network namespace: %w", l.Name, errdefs.ErrInvalidArgument)
	}
	k, err := key(l.Name, a.ContainerID, a.IfName)
	if err != nil {
		return nil, err
	}
	defer r.lock(k)()
	e := &entry{Network: l.Name, ContainerID: a.ContainerID, IfName: a.IfName, NetNS: nsPath(a.NetNS), Args: a.Args,
		Ports: a.PortMappings, MAC: a.MAC, Config: l.Bytes}
	e.NetNSID = nsID(e.NetNS)
	for _, p := range a.IPs {
		e.IPs = append(e.IPs, p.String())
	}
	// Cached before the first plugin runs: a crash from here on leaves
	// what DEL needs.
	if err := r.putEntry(e); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			undo, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.o.Timeout)
			defer cancel()
			if derr := r.del(undo, e); derr == nil {
				r.dropEntry(e.Network, e.ContainerID, e.IfName)
			}
		}
	}()
	var prev json.RawMessage
	for _, p := range l.Plugins {
		out, err := r.run(ctx, r.callFor("ADD", l, p, e, prev))
		if err != nil {
			return nil, err
		}
		if _, err := ParseResult(out); err != nil {
			return nil, fmt.Errorf("cni network %s: plugin %s ADD: %w", l.Name, p.Type, err)
		}
		prev = out
	}
	res, _ := ParseResult(prev)
	e.Result = prev
	if err := r.putEntry(e); err != nil {
		return nil, err
	}
	return res, nil
}

// Check runs CHECK for each plugin in order with the cached result
// (spec 0.4.0 on; nothing to do when the list disables it).
func (r *Runner) Check(ctx context.Context, l *List, a Attachment) error {
	k, err := key(l.Name, a.ContainerID, a.IfName)
	if err != nil {
		return err
	}
	defer r.lock(k)()
	if !checks(l.CNIVersion) {
		return fmt.Errorf("cni network %s: cniVersion %s has no CHECK: %w", l.Name, l.CNIVersion, errdefs.ErrNotImplemented)
	}
	if l.DisableCheck {
		return nil
	}
	e, err := r.getEntry(l.Name, a.ContainerID, a.IfName)
	if err != nil {
		return err
	}
	if e == nil || len(e.Result) == 0 {
		return fmt.Errorf("cni network %s: container %s has no %s attachment: %w", l.Name, a.ContainerID, a.IfName, errdefs.ErrNotFound)
	}
	if a.NetNS != "" {
		e.NetNS = nsPath(a.NetNS)
	}
	for _, p := range l.Plugins {
		if _, err := r.run(ctx, r.callFor("CHECK", l, p, e, e.Result)); err != nil {
			return err
		}
	}
	return nil
}

// Del runs DEL for each plugin in reverse order. The cached attachment,
// when there is one, gives the configuration, runtime arguments and
// result ADD had; else l does. What is gone already is no error; the
// cache entry goes once DEL succeeded.
func (r *Runner) Del(ctx context.Context, l *List, a Attachment) error {
	network := l.Name
	k, err := key(network, a.ContainerID, a.IfName)
	if err != nil {
		return err
	}
	defer r.lock(k)()
	e, err := r.getEntry(network, a.ContainerID, a.IfName)
	if err != nil {
		return err
	}
	if e == nil {
		e = &entry{Network: l.Name, ContainerID: a.ContainerID, IfName: a.IfName, Args: a.Args, Ports: a.PortMappings, Config: l.Bytes}
	}
	if a.NetNS != "" {
		e.NetNS = nsPath(a.NetNS)
	}
	sameNS(e)
	if err := r.del(ctx, e); err != nil {
		return err
	}
	return r.dropEntry(e.Network, e.ContainerID, e.IfName)
}

// DelCached is Del of a cached attachment by its names (reconciliation:
// the configuration may be gone). Nothing cached: nothing to do.
func (r *Runner) DelCached(ctx context.Context, c Cached) error {
	k, err := key(c.Network, c.ContainerID, c.IfName)
	if err != nil {
		return err
	}
	unlock := r.lock(k)
	e, err := r.getEntry(c.Network, c.ContainerID, c.IfName)
	unlock()
	if err != nil || e == nil {
		return err
	}
	l, err := ParseList(e.Config)
	if err != nil {
		return fmt.Errorf("cni cache: network %s: %w", c.Network, err)
	}
	return r.Del(ctx, l, Attachment{ContainerID: c.ContainerID, IfName: c.IfName, NetNS: c.NetNS})
}

// del runs DEL of the entry's configuration in reverse order; every
// plugin runs even when one fails, and the first error is returned.
func (r *Runner) del(ctx context.Context, e *entry) error {
	l, err := ParseList(e.Config)
	if err != nil {
		return fmt.Errorf("cni cache: network %s: %w", e.Network, err)
	}
	var first error
	for i := len(l.Plugins) - 1; i >= 0; i-- {
		if _, err := r.run(ctx, r.callFor("DEL", l, l.Plugins[i], e, e.Result)); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// callFor is a plugin's invocation: its configuration with the list's
// name and version, its runtime arguments, and prevResult.
func (r *Runner) callFor(cmd string, l *List, p Plugin, e *entry, prev json.RawMessage) call {
	conf := make(map[string]json.RawMessage, len(p.Raw)+3)
	for k, v := range p.Raw {
		conf[k] = v
	}
	conf["cniVersion"], _ = json.Marshal(l.CNIVersion)
	conf["name"], _ = json.Marshal(l.Name)
	delete(conf, "prevResult")
	delete(conf, "runtimeConfig")
	if len(prev) > 0 && chains(l.CNIVersion) && (cmd == "ADD" || checks(l.CNIVersion)) {
		conf["prevResult"] = prev
	}
	rc := map[string]any{}
	if p.Capabilities["portMappings"] && len(e.Ports) > 0 {
		rc["portMappings"] = e.Ports
	}
	if p.Capabilities["ips"] && len(e.IPs) > 0 {
		rc["ips"] = e.IPs
	}
	if p.Capabilities["mac"] && e.MAC != "" {
		rc["mac"] = e.MAC
	}
	if len(rc) > 0 {
		conf["runtimeConfig"], _ = json.Marshal(rc)
	}
	stdin, _ := json.Marshal(conf)
	args := []string{"IgnoreUnknown=1"}
	for _, kv := range e.Args {
		args = append(args, kv[0]+"="+kv[1])
	}
	env := []string{"CNI_CONTAINERID=" + e.ContainerID, "CNI_IFNAME=" + e.IfName, "CNI_ARGS=" + strings.Join(args, ";")}
	if e.NetNS != "" {
		env = append(env, "CNI_NETNS="+nsPath(e.NetNS))
	}
	return call{network: l.Name, plugin: p, command: cmd, env: env, stdin: stdin}
}

// Result is the cached result of the attachment's ADD; nil when there
// is none (never added, deleted, or ADD did not finish).
func (r *Runner) Result(network, containerID, ifname string) (*Result, error) {
	e, err := r.getEntry(network, containerID, ifname)
	if err != nil || e == nil || len(e.Result) == 0 {
		return nil, err
	}
	return ParseResult(e.Result)
}
