package testregistry

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy is a reverse proxy on a loopback port in front of a registry. Each
// request goes through Wrap's handler first, which may answer it itself,
// pass it on, or pass it on with a ResponseWriter that breaks the answer.
type Proxy struct {
	// Host is "127.0.0.1:PORT".
	Host string

	mu       sync.Mutex
	requests []string
}

// StartProxy starts a proxy to target ("HOST:PORT") for the test. wrap may
// be nil (a plain proxy). The registry builds upload locations from the
// request's Host header, so they point back at the proxy.
func StartProxy(t testing.TB, target string, wrap func(next http.Handler) http.Handler) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for proxy: %v", err)
	}
	p := &Proxy{Host: l.Addr().String()}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: "http", Host: target})
			pr.Out.Host = pr.In.Host
		},
		// A client that hangs up mid-body is what tests provoke; keep the
		// proxy's complaints about it out of the test output.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	var h http.Handler = rp
	if wrap != nil {
		h = wrap(rp)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.mu.Lock()
			p.requests = append(p.requests, r.Method+" "+r.URL.Path)
			p.mu.Unlock()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// Requests returns "METHOD PATH" for each request the proxy received.
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// CutAfter returns a ResponseWriter that passes the status and headers (so
// the client expects the full Content-Length) and the first n bytes of the
// body, then aborts the connection, as a reset or a dying server would.
func CutAfter(w http.ResponseWriter, n int64) http.ResponseWriter {
	return &cutWriter{ResponseWriter: w, left: n}
}

type cutWriter struct {
	http.ResponseWriter
	left int64
}

func (c *cutWriter) Write(b []byte) (int, error) {
	if int64(len(b)) <= c.left {
		c.left -= int64(len(b))
		return c.ResponseWriter.Write(b)
	}
	_, _ = c.ResponseWriter.Write(b[:c.left])
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	// ErrAbortHandler makes net/http close the connection without
	// finishing the body and without logging a stack trace.
	panic(http.ErrAbortHandler)
}

// Corrupt returns a ResponseWriter that flips the bits of the body byte at
// offset off: same length, wrong digest.
func Corrupt(w http.ResponseWriter, off int64) http.ResponseWriter {
	return &corruptWriter{ResponseWriter: w, off: off}
}

type corruptWriter struct {
	http.ResponseWriter
	pos, off int64
}

func (c *corruptWriter) Write(b []byte) (int, error) {
	if c.off >= c.pos && c.off < c.pos+int64(len(b)) {
		b = append([]byte(nil), b...)
		b[c.off-c.pos] ^= 0xff
	}
	c.pos += int64(len(b))
	return c.ResponseWriter.Write(b)
}
