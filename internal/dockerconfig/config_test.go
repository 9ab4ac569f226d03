package dockerconfig

import (
	"encoding/base64"
	"testing"

	"github.com/containerd/errdefs"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestHostAndServerURL(t *testing.T) {
	tests := []struct{ in, host, server string }{
		{"", "docker.io", HubServer},
		{"docker.io", "docker.io", HubServer},
		{"index.docker.io", "docker.io", HubServer},
		{"registry-1.docker.io", "docker.io", HubServer},
		{"https://index.docker.io/v1/", "docker.io", HubServer},
		{"127.0.0.1:5000", "127.0.0.1:5000", "127.0.0.1:5000"},
		{"http://127.0.0.1:5000/v2/", "127.0.0.1:5000", "127.0.0.1:5000"},
		{" Reg.Example.com ", "reg.example.com", "reg.example.com"},
		{"https://url.example:5000/v1/", "url.example:5000", "url.example:5000"},
	}
	for _, tt := range tests {
		if got := Host(tt.in); got != tt.host {
			t.Errorf("Host(%q): got %q, want %q", tt.in, got, tt.host)
		}
		if got := ServerURL(tt.in); got != tt.server {
			t.Errorf("ServerURL(%q): got %q, want %q", tt.in, got, tt.server)
		}
	}
}

func TestParseBad(t *testing.T) {
	for _, in := range []string{
		`{`, `[]`, `{"auths":{"x":{"auth":"!!!"}}}`, `{"auths":{"x":{"auth":"` + b64("nocolon") + `"}}}`, `{"auths":[]}`,
		`{"credHelpers":[]}`, `{"credsStore":1}`,
	} {
		if _, err := Parse([]byte(in)); !errdefs.IsInvalidArgument(err) {
			t.Errorf("Parse(%s): got %v, want invalid argument", in, err)
		}
	}
	big := make([]byte, MaxSize+1)
	if _, err := Parse(big); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Parse of %d bytes: got %v, want invalid argument", len(big), err)
	}
}

func TestHelperAndEntry(t *testing.T) {
	cfg, err := Parse([]byte(`{
		"auths": {
			"plain.example": {"auth": "` + b64("bob:hunter2") + `"},
			"https://url.example:5000/v1/": {"username": "carol", "password": "pw"},
			"https://index.docker.io/v1/": {"auth": "` + b64("dan:hub") + `"},
			"id.example": {"auth": "` + b64("ida:") + `", "identitytoken": "idtok"}
		},
		"credHelpers": {"per.example": "per", "https://url.example:5000": "url", "index.docker.io": "hub"},
		"credsStore": "all"
	}`))
	if err != nil {
		t.Fatal(err)
	}
	helpers := []struct{ server, want string }{
		{"per.example", "per"}, {"url.example:5000", "url"}, {"docker.io", "hub"}, {"", "hub"}, {"other.example", "all"},
	}
	for _, tt := range helpers {
		if got := cfg.Helper(tt.server); got != tt.want {
			t.Errorf("Helper(%q): got %q, want %q", tt.server, got, tt.want)
		}
	}
	entries := []struct {
		server string
		want   Credentials
		ok     bool
	}{
		{"plain.example", Credentials{Username: "bob", Password: "hunter2"}, true},
		{"http://url.example:5000", Credentials{Username: "carol", Password: "pw"}, true},
		{"index.docker.io", Credentials{Username: "dan", Password: "hub"}, true},
		{"id.example", Credentials{Username: "ida", IdentityToken: "idtok"}, true},
		{"nobody.example", Credentials{}, false},
	}
	for _, tt := range entries {
		e, _, ok := cfg.Entry(tt.server)
		got, err := e.Credentials()
		if ok != tt.ok || err != nil || got != tt.want {
			t.Errorf("Entry(%q): got %+v, %v, %v; want %+v, %v", tt.server, got, ok, err, tt.want, tt.ok)
		}
	}
}

func TestEntryOf(t *testing.T) {
	tests := []struct {
		in   Credentials
		want AuthEntry
	}{
		{Credentials{Username: "u", Password: "p:w"}, AuthEntry{Auth: b64("u:p:w")}},
		{Credentials{Username: "u", IdentityToken: "tok"}, AuthEntry{Auth: b64("u:"), IdentityToken: "tok"}},
		{Credentials{IdentityToken: "tok"}, AuthEntry{IdentityToken: "tok"}},
	}
	for _, tt := range tests {
		e := EntryOf(tt.in)
		if e != tt.want {
			t.Errorf("EntryOf(%+v): got %+v, want %+v", tt.in, e, tt.want)
		}
		if back, err := e.Credentials(); err != nil || back != tt.in {
			t.Errorf("EntryOf(%+v) decodes to %+v, %v", tt.in, back, err)
		}
	}
}
