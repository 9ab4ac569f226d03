package command

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/registry"

	"github.com/berth-dev/berth/internal/testcreds"
)

// TestRegistryAuth: the X-Registry-Auth pull and push send comes from
// the credential helper config.json names for the registry, else from
// auths, as the docker CLI finds it.
func TestRegistryAuth(t *testing.T) {
	fake := testcreds.Install(t, "", "test")
	fake.Put(t, "helped.example", "alice", "from-helper")
	fake.Put(t, "tok.example", "<token>", "refresh-token")
	fake.Put(t, "https://index.docker.io/v1/", "hubby", "hubpw")
	other := testcreds.Install(t, fake.Dir, "other")
	other.Put(t, "helped.example", "mallory", "wrong-helper")
	t.Setenv("PATH", fake.Dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

	tests := []struct {
		name, config, ref string
		want              registry.AuthConfig
		warn              string
	}{
		{"credsStore", `{"credsStore":"test","auths":{"helped.example":{}}}`, "helped.example/app:1",
			registry.AuthConfig{Username: "alice", Password: "from-helper", ServerAddress: "helped.example"}, ""},
		{"credHelpers wins over credsStore", `{"credsStore":"other","credHelpers":{"helped.example":"test"}}`, "helped.example/app",
			registry.AuthConfig{Username: "alice", Password: "from-helper", ServerAddress: "helped.example"}, ""},
		{"identity token", `{"credsStore":"test"}`, "tok.example/app",
			registry.AuthConfig{IdentityToken: "refresh-token", ServerAddress: "tok.example"}, ""},
		{"Docker Hub", `{"credsStore":"test"}`, "busybox",
			registry.AuthConfig{Username: "hubby", Password: "hubpw", ServerAddress: "https://index.docker.io/v1/"}, ""},
		{"auths", `{"auths":{"plain.example":{"auth":"` + b64("bob:pw") + `"}}}`, "plain.example/app",
			registry.AuthConfig{Username: "bob", Password: "pw", ServerAddress: "plain.example"}, ""},
		{"helper has none: auths", `{"credsStore":"test","auths":{"plain.example":{"auth":"` + b64("bob:pw") + `"}}}`, "plain.example/app",
			registry.AuthConfig{Username: "bob", Password: "pw", ServerAddress: "plain.example"}, ""},
		{"helper missing: warned, auths", `{"credsStore":"gone","auths":{"plain.example":{"auth":"` + b64("bob:pw") + `"}}}`, "plain.example/app",
			registry.AuthConfig{Username: "bob", Password: "pw", ServerAddress: "plain.example"}, "docker-credential-gone"},
		{"nothing", `{"credsStore":"test","auths":{"none.example":{}}}`, "none.example/app", registry.AuthConfig{}, ""},
		{"no file", ``, "plain.example/app", registry.AuthConfig{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var stderr bytes.Buffer
			c := New(strings.NewReader(""), &bytes.Buffer{}, &stderr, "test", "")
			c.Opts.ConfigDir = dir
			header, err := c.RegistryAuth(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			var got registry.AuthConfig
			if header != "" {
				b, err := base64.URLEncoding.DecodeString(header)
				if err != nil || json.Unmarshal(b, &got) != nil {
					t.Fatalf("header %q does not decode: %v", header, err)
				}
			}
			if got != tt.want {
				t.Errorf("RegistryAuth(%s): got %+v, want %+v", tt.ref, got, tt.want)
			}
			if tt.warn == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), tt.warn) {
				t.Errorf("stderr: got %q, want a warning naming %q", stderr.String(), tt.warn)
			}
		})
	}
}
