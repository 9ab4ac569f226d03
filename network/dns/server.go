package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	mdns "github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// Lookup is what the server asks of the network service.
type Lookup interface {
	// LookupName returns the addresses of the container, alias or short
	// ID name on the client's networks; name is lower case without the
	// trailing dot. (For "web.mynet" the server asks for "web" and keeps
	// the addresses whose LookupAddr names end in ".mynet".)
	LookupName(client netip.Addr, name string) []netip.Addr
	// LookupAddr returns the names of addr on the client's networks,
	// "container.network", for PTR. LookupAddr(client, client) is not
	// empty exactly when client is a container the server should answer.
	LookupAddr(client, addr netip.Addr) []string
}

// ClientUpstreams may be implemented by a Lookup to choose, client by
// client, where the names it does not know go, as Docker's resolver
// forwards a container's queries to its --dns servers, and nowhere from
// a container only on internal networks.
type ClientUpstreams interface {
	// LookupUpstreams returns the client's resolvers; ok false:
	// Options.Upstreams; ok true and none: no forwarding (SERVFAIL).
	LookupUpstreams(client netip.Addr) (ups []netip.AddrPort, ok bool)
}

// Options configure a Server.
type Options struct {
	Lookup Lookup
	// Upstreams are the resolvers unknown names are forwarded to, asked
	// at each query (the host's resolv.conf can change; see Upstreams).
	Upstreams func() []netip.AddrPort
	Logger    *slog.Logger
}

// Port is where the server listens on each address.
const Port = 53

const (
	ttl = 600 // seconds, as Docker's resolver
	// maxUDP bounds UDP answers (and what is asked of the upstreams):
	// the size DNS flag day 2020 settled on, which avoids fragments.
	maxUDP = 1232
	// upstreamTimeout is how long one upstream has to answer.
	upstreamTimeout = 2 * time.Second
	// maxForwards bounds the forwards in flight.
	maxForwards = 256
	// shutdownTimeout bounds how long Unlisten waits for the queries
	// in flight (their forwards are cancelled first).
	shutdownTimeout = 5 * time.Second
)

// dialFunc opens a connection to an upstream.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Server is the embedded DNS server. Its methods are safe for concurrent
// use.
type Server struct {
	lookup    Lookup
	upstreams func() []netip.AddrPort
	log       *slog.Logger
	// dial reaches the upstreams; tests put it in their namespace.
	dial dialFunc
	// forwards holds a token per forward in flight.
	forwards chan struct{}

	mu        sync.Mutex
	listeners map[netip.Addr]*listener
	closed    bool
}

// listener is the pair of servers on one address.
type listener struct {
	udp, tcp *mdns.Server
	cancel   context.CancelFunc // cancels the forwards of its queries
	done     sync.WaitGroup     // the serving goroutines
}

// New returns a server listening nowhere yet.
func New(o Options) *Server {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	up := o.Upstreams
	if up == nil {
		up = func() []netip.AddrPort { return nil }
	}
	return &Server{
		lookup:    o.Lookup,
		upstreams: up,
		log:       log,
		dial:      (&net.Dialer{}).DialContext,
		forwards:  make(chan struct{}, maxForwards),
		listeners: map[netip.Addr]*listener{},
	}
}

// Listen serves UDP and TCP on addr port 53 (a network's gateway). It
// binds with IP_FREEBIND, so it works before the address is up. A second
// Listen on the same address does nothing.
func (s *Server) Listen(addr netip.Addr) error {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsUnspecified() {
		return fmt.Errorf("dns listen %s: not a unicast address: %w", addr, errdefs.ErrInvalidArgument)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("dns listen %s: server closed: %w", addr, errdefs.ErrFailedPrecondition)
	}
	if _, ok := s.listeners[addr]; ok {
		return nil
	}
	l, err := s.listen(addr)
	if err != nil {
		return fmt.Errorf("dns listen %s: %w", netip.AddrPortFrom(addr, Port), err)
	}
	s.listeners[addr] = l
	return nil
}

// listen opens both sockets on addr and starts serving them.
func (s *Server) listen(addr netip.Addr) (_ *listener, err error) {
	ap := netip.AddrPortFrom(addr, Port).String()
	lc := net.ListenConfig{Control: freebind}
	pc, err := lc.ListenPacket(context.Background(), "udp", ap)
	if err != nil {
		return nil, err
	}
	tl, err := lc.Listen(context.Background(), "tcp", ap)
	if err != nil {
		pc.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := handler{s: s, ctx: ctx}
	l := &listener{cancel: cancel}
	l.udp = &mdns.Server{PacketConn: pc, Handler: h, UDPSize: maxUDP, MsgAcceptFunc: accept}
	l.tcp = &mdns.Server{Listener: tl, Handler: h, MsgAcceptFunc: accept, MaxTCPQueries: 64}
	for _, srv := range []*mdns.Server{l.udp, l.tcp} {
		if err := l.start(srv); err != nil {
			l.stop(s.log, addr)
			pc.Close()
			tl.Close()
			return nil, err
		}
	}
	return l, nil
}

// start serves srv in a goroutine and returns once it runs (so a stop
// that follows finds it started) or failed to.
func (l *listener) start(srv *mdns.Server) error {
	started := make(chan struct{})
	errc := make(chan error, 1)
	srv.NotifyStartedFunc = func() { close(started) }
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		errc <- srv.ActivateAndServe()
	}()
	select {
	case <-started:
		return nil
	case err := <-errc:
		if err == nil {
			err = errors.New("server stopped at start")
		}
		return err
	}
}

// stop cancels the forwards of the listener's queries, shuts its servers
// down and waits for their goroutines, so both sockets are closed.
func (l *listener) stop(log *slog.Logger, addr netip.Addr) {
	l.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, srv := range []*mdns.Server{l.udp, l.tcp} {
		if srv == nil {
			continue
		}
		// An error means it never started or is stopped already.
		if err := srv.ShutdownContext(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			log.Debug("dns shutdown", "addr", addr, "error", err)
		}
	}
	l.done.Wait()
}

// Unlisten stops serving on addr and closes its sockets; the queries in
// flight there are dropped.
func (s *Server) Unlisten(addr netip.Addr) {
	addr = addr.Unmap()
	s.mu.Lock()
	l := s.listeners[addr]
	delete(s.listeners, addr)
	s.mu.Unlock()
	if l != nil {
		l.stop(s.log, addr)
	}
}

// Close stops serving on every address; Listen fails afterwards.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	ls := s.listeners
	s.listeners = map[netip.Addr]*listener{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for a, l := range ls {
		wg.Go(func() { l.stop(s.log, a) })
	}
	wg.Wait()
	return nil
}

// listening reports whether the server listens on ap, so it never
// forwards to itself.
func (s *Server) listening(ap netip.AddrPort) bool {
	if ap.Port() != Port {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.listeners[ap.Addr().Unmap()]
	return ok
}

// freebind lets a socket bind an address the host does not have (yet):
// a bridge's address can come after the network's listener.
func freebind(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("set IP_FREEBIND: %w", serr)
	}
	return nil
}
