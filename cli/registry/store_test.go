package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/cli/command"
	"github.com/berth-dev/berth/internal/testcreds"
)

// TestStore: where login keeps what the daemon accepted — the helper
// (with a placeholder in auths) or auths (with docker's warning) — and an
// identity token in the password's place.
func TestStore(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, config, token string
		helper              testcreds.Creds // what the helper must hold; zero when nothing
		file, warn          string
	}{
		{"auths", `{}`, "", testcreds.Creds{}, `"auth": "` + b64("u:pw") + `"`, "stored unencrypted"},
		{"auths, identity token", `{}`, "idtok", testcreds.Creds{}, `"identitytoken": "idtok"`, ""},
		{"credsStore", `{"credsStore":"test"}`, "", testcreds.Creds{ServerURL: "reg.example", Username: "u", Secret: "pw"}, `"reg.example": {}`, ""},
		{"credsStore, identity token", `{"credsStore":"test"}`, "idtok", testcreds.Creds{ServerURL: "reg.example", Username: "<token>", Secret: "idtok"}, `"reg.example": {}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := testcreds.Install(t, "", "test")
			t.Setenv("PATH", fake.Dir+string(os.PathListSeparator)+os.Getenv("PATH"))
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			c := command.New(strings.NewReader(""), &bytes.Buffer{}, &stderr, "test", "")
			c.Opts.ConfigDir = dir
			if err := store(context.Background(), c, "reg.example", "u", "pw", tt.token); err != nil {
				t.Fatal(err)
			}
			got, ok := fake.Stored(t, "reg.example")
			if got != tt.helper || ok != (tt.helper != testcreds.Creds{}) {
				t.Errorf("helper's record: got %+v, %v; want %+v", got, ok, tt.helper)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			if !strings.Contains(string(b), tt.file) || tt.token != "" && strings.Contains(string(b), b64("u:pw")) {
				t.Errorf("config.json: got\n%s\nwant it to contain %s", b, tt.file)
			}
			if tt.warn == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), tt.warn) {
				t.Errorf("stderr: got %q, want %q", stderr.String(), tt.warn)
			}
		})
	}
}
