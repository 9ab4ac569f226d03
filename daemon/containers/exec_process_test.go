package containers

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSpecProcessFollowsConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	var c specProcess
	steps := []struct {
		config string // written (by rename, as create does) before the get; "" keeps the file
		want   string // the process's first arg
	}{
		{`{"process":{"args":["a"],"cwd":"/"}}`, "a"},
		{"", "a"},
		{`{"process":{"args":["b"],"cwd":"/"}}`, "b"},
		{`{"process":{"args":["cc"],"cwd":"/"}}`, "cc"},
		{"", "cc"},
	}
	for i, st := range steps {
		if st.config != "" {
			if err := writeFileAtomic(path, []byte(st.config), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		p, err := c.get(path)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := p.Args[0]; got != st.want {
			t.Errorf("step %d: got args[0] %q, want %q", i, got, st.want)
		}
	}
	if err := os.WriteFile(path, []byte(`{"ociVersion":"1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.get(path); err == nil {
		t.Errorf("got no error for a config.json without a process, want one")
	}
}
