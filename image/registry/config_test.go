package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/berth-dev/berth/internal/dockerconfig"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// fakeHelper writes docker-credential-NAME into a directory: get answers
// alice/secret for serverURL "known:5000" and Docker Hub, an identity token
// for "token.example", and "not found" otherwise; store and erase write
// their input to files beside it.
func fakeHelper(t *testing.T, helperName string) (dir string, lookPath func(string) (string, error)) {
	t.Helper()
	dir = t.TempDir()
	script := `#!/bin/sh
in=$(cat)
case "$1" in
get)
	case "$in" in
	known:5000|https://index.docker.io/v1/) echo "{\"ServerURL\":\"$in\",\"Username\":\"alice\",\"Secret\":\"secret\"}" ;;
	token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"refresh-me"}' ;;
	*) echo "credentials not found in native keychain"; exit 1 ;;
	esac ;;
store) printf '%s' "$in" > "` + dir + `/stored" ;;
erase) printf '%s' "$in" > "` + dir + `/erased" ;;
*) echo "unknown action" >&2; exit 2 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+helperName), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, func(file string) (string, error) {
		p := filepath.Join(dir, file)
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
}

func TestConfigKeychainLookup(t *testing.T) {
	_, lookPath := fakeHelper(t, "fake")
	cfg := `{
		"auths": {
			"plain.example": {"auth": "` + b64("bob:hunter2") + `"},
			"https://url.example:5000/v1/": {"username": "carol", "password": "pw"},
			"https://index.docker.io/v1/": {"auth": "` + b64("dan:hub") + `"},
			"fallback.example": {"auth": "` + b64("erin:fb") + `"},
			"id.example": {"identitytoken": "idtok"}
		},
		"credHelpers": {"known:5000": "fake", "token.example": "fake", "fallback.example": "fake", "broken.example": "missing"},
		"HttpHeaders": {"X-Meta": "kept"}
	}`
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &ConfigKeychain{Path: path, LookPath: lookPath}
	tests := []struct {
		host string
		want authn.AuthConfig
		err  func(error) bool
	}{
		{"plain.example", authn.AuthConfig{Username: "bob", Password: "hunter2"}, nil},
		{"url.example:5000", authn.AuthConfig{Username: "carol", Password: "pw"}, nil},
		{"index.docker.io", authn.AuthConfig{Username: "dan", Password: "hub"}, nil},
		{"known:5000", authn.AuthConfig{Username: "alice", Password: "secret"}, nil},
		{"token.example", authn.AuthConfig{IdentityToken: "refresh-me"}, nil},
		{"fallback.example", authn.AuthConfig{Username: "erin", Password: "fb"}, nil},
		{"id.example", authn.AuthConfig{IdentityToken: "idtok"}, nil},
		{"nobody.example", authn.AuthConfig{}, nil},
		{"broken.example", authn.AuthConfig{}, errdefs.IsNotFound},
	}
	for _, tt := range tests {
		got, err := k.Lookup(context.Background(), tt.host)
		if tt.err != nil {
			if !tt.err(err) {
				t.Errorf("Lookup(%s): got %v, want a classified error", tt.host, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%s): got %+v, %v; want %+v", tt.host, got, err, tt.want)
		}
	}
	// Through authn.Resolve, as the client uses it.
	reg, _ := name.NewRegistry("nobody.example")
	if a, err := authn.Resolve(context.Background(), k, reg); err != nil || a != authn.Anonymous {
		t.Errorf("Resolve(nobody.example): got %v, %v; want anonymous", a, err)
	}
	missing := &ConfigKeychain{Path: filepath.Join(t.TempDir(), "none.json")}
	if got, err := missing.Lookup(context.Background(), "plain.example"); err != nil || got != (authn.AuthConfig{}) {
		t.Errorf("Lookup with no config file: got %+v, %v; want nothing", got, err)
	}
}

func TestCredsStore(t *testing.T) {
	dir, lookPath := fakeHelper(t, "store")
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"credsStore":"store","auths":{"old.example":{}},"experimental":"enabled"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &ConfigKeychain{Path: path, LookPath: lookPath}
	ctx := context.Background()
	if got, err := k.Lookup(ctx, "docker.io"); err != nil || got.Username != "alice" {
		t.Fatalf("Lookup(docker.io) through credsStore: got %+v, %v; want alice", got, err)
	}
	if err := k.Save(ctx, "new.example:5000", "frank", "pw"); err != nil {
		t.Fatal(err)
	}
	stored, _ := os.ReadFile(filepath.Join(dir, "stored"))
	var sc dockerconfig.HelperCreds
	if err := json.Unmarshal(stored, &sc); err != nil || sc != (dockerconfig.HelperCreds{ServerURL: "new.example:5000", Username: "frank", Secret: "pw"}) {
		t.Fatalf("helper store got %s, want the credentials for new.example:5000", stored)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"new.example:5000": {}`) || strings.Contains(string(b), "pw") || !strings.Contains(string(b), `"experimental"`) {
		t.Fatalf("config after Save with a credsStore:\n%s\nwant an empty auths entry, no secret, other keys kept", b)
	}
	if err := k.Erase(ctx, "new.example:5000"); err != nil {
		t.Fatal(err)
	}
	if erased, _ := os.ReadFile(filepath.Join(dir, "erased")); string(erased) != "new.example:5000" {
		t.Fatalf("helper erase got %q, want new.example:5000", erased)
	}
}

func TestSaveAndErase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	k := &ConfigKeychain{Path: path}
	ctx := context.Background()
	for _, s := range []struct{ host, user, pass string }{
		{"one.example", "u1", "p1"},
		{"", "hubuser", "hubpass"},
		{"https://one.example/v1/", "u2", "p:2"},
	} {
		if err := k.Save(ctx, s.host, s.user, s.pass); err != nil {
			t.Fatalf("Save(%q): %v", s.host, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v; want 0600", err, fi.Mode())
	}
	var cfg dockerconfig.Config
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Auths) != 2 || cfg.Auths[dockerconfig.HubServer].Auth != b64("hubuser:hubpass") || cfg.Auths["one.example"].Auth != b64("u2:p:2") {
		t.Fatalf("auths after saves: got %+v", cfg.Auths)
	}
	if got, _ := k.Lookup(ctx, "one.example"); got.Password != "p:2" {
		t.Fatalf("Lookup after Save: got %+v, want password p:2", got)
	}
	if err := k.Erase(ctx, "one.example"); err != nil {
		t.Fatal(err)
	}
	if err := k.Erase(ctx, "one.example"); !errdefs.IsNotFound(err) {
		t.Fatalf("second Erase: got %v, want not found", err)
	}
	if got, _ := k.Lookup(ctx, "one.example"); got != (authn.AuthConfig{}) {
		t.Fatalf("Lookup after Erase: got %+v, want nothing", got)
	}
}

func TestHostPolicy(t *testing.T) {
	p := newHostPolicy([]string{"reg.example", "other.example:5000", "10.1.0.0/16", "http://url.example:8080/path", "not a host"})
	tests := []struct {
		host string
		want bool
	}{
		{"localhost:5000", true},
		{"127.0.0.1:5000", true},
		{"127.8.9.10", true},
		{"[::1]:5000", true},
		{"reg.example", true},
		{"reg.example:443", true},
		{"other.example:5000", true},
		{"other.example:5001", false},
		{"10.1.2.3:5000", true},
		{"10.2.0.1:5000", false},
		{"url.example:8080", true},
		{"index.docker.io", false},
		{"192.168.1.1:5000", false},
	}
	for _, tt := range tests {
		if got := p.plainHTTP(tt.host); got != tt.want {
			t.Errorf("plainHTTP(%s): got %v, want %v", tt.host, got, tt.want)
		}
	}
}

// TestGuardRefusesPlainHTTP checks that no request leaves over plain HTTP
// for a host not configured insecure (the request fails before dialing).
func TestGuardRefusesPlainHTTP(t *testing.T) {
	g := &guard{hosts: newHostPolicy(nil), secure: http.DefaultTransport, insecure: http.DefaultTransport}
	req, _ := http.NewRequest(http.MethodGet, "http://registry.invalid/v2/", nil)
	if resp, err := g.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "only https") {
		if resp != nil {
			resp.Body.Close()
		}
		t.Fatalf("plain http to a secure host: got %v, want refused", err)
	}
}

func TestMirrorConfig(t *testing.T) {
	c := New(Options{Mirrors: map[string][]string{"docker.io": {"https://mirror.example/", "http://plain.example:5000"}}})
	repo, _ := name.NewRepository("busybox")
	var got []string
	for _, e := range c.endpoints(repo) {
		got = append(got, e.String())
	}
	want := "mirror.example/library/busybox plain.example:5000/library/busybox index.docker.io/library/busybox"
	if strings.Join(got, " ") != want {
		t.Fatalf("endpoints of busybox: got %q, want %q", got, want)
	}
	if !c.hosts.plainHTTP("plain.example:5000") || c.hosts.plainHTTP("mirror.example") {
		t.Fatalf("an http:// mirror must be plain HTTP, an https:// one not")
	}
}
