package containers

import (
	"os"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
)

// TestEnsureNetFiles: files a crash emptied or removed are made again;
// files that are there (perhaps edited) are left alone.
func TestEnsureNetFiles(t *testing.T) {
	s, _ := testService(t, nil)
	id := strings.Repeat("c", 64)
	if err := os.MkdirAll(s.bundleDir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg, hc := &container.Config{Hostname: "box"}, &container.HostConfig{}
	f := s.netFilePaths(id)
	if err := s.ensureNetFiles(id, cfg, hc); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f.Hostname); string(b) != "box\n" {
		t.Fatalf("hostname after ensure on an empty bundle: got %q, want \"box\\n\"", b)
	}
	os.WriteFile(f.Hosts, []byte("10.0.0.1 edited\n"), 0o644)
	os.WriteFile(f.Hostname, nil, 0o644) // as a crash after create may leave it
	if err := s.ensureNetFiles(id, cfg, hc); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f.Hostname); string(b) != "box\n" {
		t.Errorf("emptied hostname after ensure: got %q, want \"box\\n\"", b)
	}
	if b, _ := os.ReadFile(f.ResolvConf); len(b) == 0 {
		t.Errorf("resolv.conf after ensure: empty")
	}
	os.WriteFile(f.Hosts, []byte("10.0.0.1 edited\n"), 0o644)
	if err := s.ensureNetFiles(id, cfg, hc); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f.Hosts); string(b) != "10.0.0.1 edited\n" {
		t.Errorf("hosts present and complete: got %q, want it left as it was", b)
	}
}
