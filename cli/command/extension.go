package command

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/moby/moby/client"
)

// Extension sends a request to one of berthd's own endpoints, those the
// Docker API does not have (such as POST /system/fsck), over the same
// connection settings as the API client: host, TLS, negotiated version.
// A status of 400 or more is returned as an error carrying the daemon's
// message; the caller closes the body of a successful response.
func (c *CLI) Extension(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Response, error) {
	cl, err := c.Client()
	if err != nil {
		return nil, err
	}
	if _, err := cl.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return nil, err
	}
	dial := cl.Dialer()
	hc := &http.Client{Transport: &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		DisableKeepAlives: true,
	}}
	u := url.URL{Scheme: "http", Host: "berth", Path: "/v" + cl.ClientVersion() + path, RawQuery: query.Encode()}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "berth-cli/"+c.Version)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-tar")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct{ Message string }
	if json.Unmarshal(msg, &e) == nil && e.Message != "" {
		return nil, fmt.Errorf("Error response from daemon: %s", e.Message)
	}
	return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(msg)))
}
