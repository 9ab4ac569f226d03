package registry

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/internal/testcreds"
)

// TestLogout: logout erases through the registry's credential helper and
// drops its auths entries; a helper that fails is warned about and
// config.json kept, as the docker CLI does.
func TestLogout(t *testing.T) {
	fake := testcreds.Install(t, "", "test")
	failing := filepath.Join(fake.Dir, "docker-credential-broken")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'keychain locked' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fake.Dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	tests := []struct {
		name, config, server    string
		stdout, stderr, config2 string
		erased                  string // what the helper must no longer hold
	}{
		{"credsStore", `{"credsStore":"test","auths":{"reg.example:5000":{}}}`, "http://reg.example:5000/v2/",
			"Removing login credentials for reg.example:5000\n", "", `"auths": {}`, "reg.example:5000"},
		{"credHelpers, Docker Hub", `{"credHelpers":{"https://index.docker.io/v1/":"test"},"auths":{"https://index.docker.io/v1/":{}}}`, "",
			"Removing login credentials for https://index.docker.io/v1/\n", "", `"auths": {}`, "https://index.docker.io/v1/"},
		{"auths", `{"auths":{"reg.example":{"auth":"dTpw"}},"psFormat":"x"}`, "reg.example",
			"Removing login credentials for reg.example\n", "", `"psFormat": "x"`, ""},
		{"not logged in", `{"auths":{}}`, "reg.example", "Not logged in to reg.example\n", "", `{"auths":{}}`, ""},
		{"helper fails", `{"credsStore":"broken","auths":{"reg.example":{}}}`, "reg.example",
			"Removing login credentials for reg.example\n", "WARNING: could not erase credentials:\nreg.example: credential helper docker-credential-broken erase: exit status 1: keychain locked\n",
			`{"credsStore":"broken","auths":{"reg.example":{}}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.json")
			if err := os.WriteFile(path, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			fake.Put(t, "reg.example:5000", "u", "p")
			fake.Put(t, "https://index.docker.io/v1/", "u", "p")
			var stdout, stderr bytes.Buffer
			c := command.New(strings.NewReader(""), &stdout, &stderr, "test", "")
			c.Opts.ConfigDir = dir
			cmd := NewLogoutCommand(c)
			var args []string
			if tt.server != "" {
				args = []string{tt.server}
			}
			cmd.SetArgs(args)
			if err := cmd.ExecuteContext(context.Background()); err != nil {
				t.Fatalf("logout: %v", err)
			}
			if stdout.String() != tt.stdout || stderr.String() != tt.stderr {
				t.Errorf("logout %s: got stdout %q, stderr %q; want %q, %q", tt.server, stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
			if b, _ := os.ReadFile(path); !strings.Contains(string(b), tt.config2) {
				t.Errorf("config.json after logout: got %s, want it to contain %s", b, tt.config2)
			}
			if tt.erased != "" {
				if _, ok := fake.Stored(t, tt.erased); ok {
					t.Errorf("the helper still holds %s after logout", tt.erased)
				}
			}
		})
	}
	if calls := fake.Calls(); !slices.Contains(calls, "erase reg.example:5000") || !slices.Contains(calls, "erase https://index.docker.io/v1/") {
		t.Errorf("helper calls: got %q, want erases of reg.example:5000 and Docker Hub", calls)
	}
}
