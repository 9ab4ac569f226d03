package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	orig := `{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOnNlY3JldA=="},"http://old.example:5000/v1/":{"auth":"b2xkOnB3"}},"psFormat":"table {{.ID}}","credsStore":"desktop"}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ host, user, pass string }{
		{"docker.io", "hub", "secret"}, {"index.docker.io", "hub", "secret"}, {"old.example:5000", "old", "pw"},
	} {
		if u, p, ok := f.Credentials(tc.host); !ok || u != tc.user || p != tc.pass {
			t.Errorf("Credentials(%s): got %q %q %v, want %q %q", tc.host, u, p, ok, tc.user, tc.pass)
		}
	}
	if _, _, ok := f.Credentials("127.0.0.1:5000"); ok {
		t.Errorf("Credentials of an unknown host: got some, want none")
	}
	f.SetCredentials("127.0.0.1:5000", "me", "p:w")
	if !f.Remove("old.example:5000") {
		t.Errorf("Remove(old.example:5000): got false, want true")
	}
	if f.Remove("old.example:5000") {
		t.Errorf("second Remove(old.example:5000): got true, want false")
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("saved file: got %v, %v, want mode 0600", st, err)
	}
	g, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if u, p, ok := g.Credentials("127.0.0.1:5000"); !ok || u != "me" || p != "p:w" {
		t.Errorf("reloaded Credentials: got %q %q %v, want me p:w", u, p, ok)
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["psFormat"] != "table {{.ID}}" || m["credsStore"] != "desktop" {
		t.Errorf("saved file lost other keys:\n%s", b)
	}
	if strings.Contains(string(b), "old.example") {
		t.Errorf("saved file kept removed credentials:\n%s", b)
	}
}

func TestLoadBad(t *testing.T) {
	for _, content := range []string{"{", `{"auths":[1]}`, `[]`, `{"detachKeys":5}`} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, FileName), []byte(content), 0o600)
		if _, err := Load(dir); err == nil {
			t.Errorf("Load(%q): got no error, want one", content)
		}
	}
	f, err := Load(filepath.Join(t.TempDir(), "missing"))
	if _, _, ok := f.Credentials("docker.io"); err != nil || ok || f.Helper("docker.io") != "" {
		t.Errorf("Load of a missing dir: got %v, %v, want an empty config", f, err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"auths":{"x":{"auth":"eDp5"}}}`))
	f.Add([]byte(`{"auths":null,"detachKeys":"ctrl-p,ctrl-q"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, FileName), b, 0o600)
		cf, err := Load(dir)
		if err != nil {
			return
		}
		cf.Credentials("x")
		cf.SetCredentials("y", "u", "p")
		if err := cf.Save(); err != nil {
			t.Fatalf("Save after Load: %v", err)
		}
	})
}
