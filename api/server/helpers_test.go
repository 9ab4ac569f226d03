package server

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	apiregistry "github.com/moby/moby/api/types/registry"
)

func TestSplitVersion(t *testing.T) {
	cases := []struct{ in, v, rest string }{
		{"/v1.50/images/json", "1.50", "/images/json"},
		{"/v1.24/_ping", "1.24", "/_ping"},
		{"/v1/info", "1", "/info"},
		{"/v1.50", "1.50", "/"},
		{"/images/json", "", "/images/json"},
		{"/version", "", "/version"},
		{"/vx/info", "", "/vx/info"},
		{"/volumes", "", "/volumes"},
	}
	for _, c := range cases {
		if v, rest := splitVersion(c.in); v != c.v || rest != c.rest {
			t.Errorf("splitVersion(%q): got %q %q, want %q %q", c.in, v, rest, c.v, c.rest)
		}
	}
	for _, c := range []struct {
		a, b string
		want int
	}{{"1.24", "1.24", 0}, {"1.9", "1.24", -1}, {"1.51", "1.50", 1}, {"2", "1.99", 1}, {"1.24.0", "1.24", 0}} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%s, %s): got %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestDecodeAuth(t *testing.T) {
	enc := func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name, header string
		want         apiregistry.AuthConfig
		err          bool
	}{
		{"empty", "", apiregistry.AuthConfig{}, false},
		{"padded", enc(`{"username":"u","password":"p","serveraddress":"r:5000"}`), apiregistry.AuthConfig{Username: "u", Password: "p", ServerAddress: "r:5000"}, false},
		{"unpadded", strings.TrimRight(enc(`{"username":"ab","password":"c"}`), "="), apiregistry.AuthConfig{Username: "ab", Password: "c"}, false},
		{"std base64", base64.StdEncoding.EncodeToString([]byte(`{"username":"u?>","password":"p"}`)), apiregistry.AuthConfig{Username: "u?>", Password: "p"}, false},
		{"auth field", enc(`{"auth":"` + base64.StdEncoding.EncodeToString([]byte("u:p:q")) + `"}`), apiregistry.AuthConfig{Username: "u", Password: "p:q", Auth: base64.StdEncoding.EncodeToString([]byte("u:p:q"))}, false},
		{"empty object", enc(`{}`), apiregistry.AuthConfig{}, false},
		{"not base64", "!!!", apiregistry.AuthConfig{}, true},
		{"not JSON", enc("user:pass"), apiregistry.AuthConfig{}, true},
		{"too long", strings.Repeat("a", maxAuthHeader+1), apiregistry.AuthConfig{}, true},
	}
	for _, c := range cases {
		got, err := decodeAuth(c.header)
		if (err != nil) != c.err || err == nil && got != c.want {
			t.Errorf("%s: got %+v, %v, want %+v (error %v)", c.name, got, err, c.want, c.err)
		}
	}
}

// TestKeychain: a request's credentials go to the registry they were
// given for, and only while that request runs.
func TestKeychain(t *testing.T) {
	auth := base64.URLEncoding.EncodeToString([]byte(`{"username":"u","password":"p","serveraddress":"127.0.0.1:5000"}`))
	req := httptest.NewRequest("POST", "/images/create", nil)
	req.Header.Set("X-Registry-Auth", auth)
	ctx, err := withRequestAuth(req)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(ctx context.Context, host string) authn.AuthConfig {
		reg, _ := name.NewRegistry(host, name.Insecure)
		a, err := Keychain().(authn.ContextKeychain).ResolveContext(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		ac, err := authn.Authorization(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return *ac
	}
	if got := lookup(ctx, "127.0.0.1:5000"); got.Username != "u" || got.Password != "p" {
		t.Errorf("credentials for their registry: got %+v", got)
	}
	if got := lookup(ctx, "other.example"); got != (authn.AuthConfig{}) {
		t.Errorf("credentials for another registry: got %+v, want none", got)
	}
	if got := lookup(context.Background(), "127.0.0.1:5000"); got != (authn.AuthConfig{}) {
		t.Errorf("credentials outside the request: got %+v, want none", got)
	}
	hub := base64.URLEncoding.EncodeToString([]byte(`{"username":"u","password":"p","serveraddress":"https://index.docker.io/v1/"}`))
	req.Header.Set("X-Registry-Auth", hub)
	ctx, _ = withRequestAuth(req)
	if got := lookup(ctx, "index.docker.io"); got.Username != "u" {
		t.Errorf("Docker Hub credentials: got %+v", got)
	}
}

func TestFilters(t *testing.T) {
	cases := []struct {
		raw  string
		want map[string][]string
		err  string
	}{
		{"", map[string][]string{}, ""},
		{`{"dangling":{"true":true}}`, map[string][]string{"dangling": {"true"}}, ""},
		{`{"label":{"a=b":true,"c":true,"off":false}}`, map[string][]string{"label": {"a=b", "c"}}, ""},
		{`{"reference":["x","y"]}`, map[string][]string{"reference": {"x", "y"}}, ""},
		{`{"colour":["blue"]}`, nil, "invalid filter 'colour'"},
		{`{`, nil, "invalid filter"},
		{`["x"]`, nil, "invalid filter"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/images/json?filters="+url.QueryEscape(c.raw), nil)
		got, err := filters(r, "dangling", "label", "reference")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("filters(%s): got %v, %v, want error %q", c.raw, got, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("filters(%s): got %v, %v, want %v", c.raw, got, err, c.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", time.Time{}, false},
		{"1700000000", time.Unix(1700000000, 0), false},
		{"1700000000.5", time.Unix(1700000000, 500000000), false},
		{"1700000000.000000001", time.Unix(1700000000, 1), false},
		{"1700000000.1234567891234", time.Unix(1700000000, 123456789), false},
		{"-5", time.Unix(-5, 0), false},
		{"10m", time.Time{}, true},
		{"1700000000.x", time.Time{}, true},
		{"1700000000.-1", time.Time{}, true},
	}
	for _, c := range cases {
		got, err := parseTimestamp(c.in)
		if (err != nil) != c.err || !got.Equal(c.want) {
			t.Errorf("parseTimestamp(%q): got %v, %v, want %v (error %v)", c.in, got, err, c.want, c.err)
		}
	}
}

func TestSplitImagePath(t *testing.T) {
	cases := []struct{ in, name, verb string }{
		{"busybox/json", "busybox", "json"},
		{"127.0.0.1:5000/team/app:v1/json", "127.0.0.1:5000/team/app:v1", "json"},
		{"busybox@sha256:abc/history", "busybox@sha256:abc", "history"},
		{"json", "", ""},
		{"/json", "", ""},
	}
	for _, c := range cases {
		if n, v := splitImagePath(c.in); n != c.name || v != c.verb {
			t.Errorf("splitImagePath(%q): got %q %q, want %q %q", c.in, n, v, c.name, c.verb)
		}
	}
}

func TestProgressBar(t *testing.T) {
	cases := []struct {
		cur, total int64
		want       string
	}{
		{0, 100, "[>" + strings.Repeat(" ", 49) + "]       0B/100B"},
		{1500000, 3000000, "[" + strings.Repeat("=", 25) + ">" + strings.Repeat(" ", 24) + "]    1.5MB/3MB"},
		{10, 10, "[" + strings.Repeat("=", 50) + "]      10B/10B"},
		{20, 10, "[" + strings.Repeat("=", 50) + "]      20B/10B"},
	}
	for _, c := range cases {
		if got := progressBar(c.cur, c.total); got != c.want {
			t.Errorf("progressBar(%d, %d): got %q, want %q", c.cur, c.total, got, c.want)
		}
	}
	if got := humanSize(1234567); got != "1.235MB" {
		t.Errorf("humanSize: got %q", got)
	}
}

func TestWithTag(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	cases := []struct{ name, tag, want, err string }{
		{"busybox", "", "docker.io/library/busybox:latest", ""},
		{"busybox", "1.36", "docker.io/library/busybox:1.36", ""},
		{"busybox:1.0", "1.36", "docker.io/library/busybox:1.36", ""},
		{"busybox", d, "docker.io/library/busybox@" + d, ""},
		{"127.0.0.1:5000/app:v1", "v2", "127.0.0.1:5000/app:v2", ""},
		{"busybox", "bad tag", "", "invalid"},
		{"Busybox", "1", "", "invalid"},
		{"busybox", "sha256:short", "", "invalid"},
	}
	for _, c := range cases {
		ref, err := withTag(c.name, c.tag)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("withTag(%q, %q): got %v, %v, want error %q", c.name, c.tag, ref, err, c.err)
			}
			continue
		}
		if err != nil || ref.String() != c.want {
			t.Errorf("withTag(%q, %q): got %q, %v, want %q", c.name, c.tag, ref, err, c.want)
		}
	}
}

// TestRouterTakesOverFallback: a router's pattern that overlaps a
// fallback wins; the fallback is left out rather than panicking.
func TestRouterTakesOverFallback(t *testing.T) {
	srv := New(Options{})
	srv.handle("/containers/{id}/attach/ws", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusTeapot)
		return nil
	})
	srv.handle("GET /containers/json", func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, http.StatusOK, []string{})
	})
	for path, want := range map[string]int{"/containers/x/attach/ws": 418, "/v1.50/containers/json": 200, "/containers/x/start": 501} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: got %d, want %d", path, rec.Code, want)
		}
	}
}
