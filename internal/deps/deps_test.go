// Package deps holds the test that keeps berth's import graph as
// shared/DESIGN.md draws it.
package deps

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRuntimeStaysSmall keeps heavy packages off the runtime's start path:
// every import is paid at each container start, in the runtime and in each
// container's init.
func TestRuntimeStaysSmall(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/berth-dev/berth/cmd/berth-runtime").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{
		"net/http", "go.etcd.io/bbolt", "github.com/google/go-containerregistry", "regexp",
		"github.com/spf13/cobra", "github.com/berth-dev/berth/daemon", "github.com/berth-dev/berth/api",
		"github.com/berth-dev/berth/image", "github.com/berth-dev/berth/cli",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("berth-runtime imports %s; keep it out of the runtime's start path", dep)
			}
		}
	}
}

// TestRuntimeDoesNotImportUpward checks the direction of imports inside the
// runtime tree: the library never imports its command line.
func TestRuntimeDoesNotImportUpward(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/berth-dev/berth/runtime/container").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/berth-dev/berth/runtime/command") || strings.HasPrefix(dep, "github.com/berth-dev/berth/cmd/") {
			t.Errorf("runtime/container imports %s", dep)
		}
	}
}

// TestLayers keeps imports flowing down shared/DESIGN.md's package map:
// the store packages never reach up to image, the image side never to
// the daemon, and nothing below cmd imports the runtime's command line.
func TestLayers(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	const mod = "github.com/berth-dev/berth/"
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"content", []string{"image", "snapshot", "archive", "runtime", "daemon", "api", "cli"}},
		{"snapshot/...", []string{"image", "content", "archive", "runtime", "daemon", "api", "cli"}},
		{"archive", []string{"image", "content", "snapshot", "runtime", "daemon", "api", "cli"}},
		{"image/...", []string{"runtime", "daemon", "api", "cli", "build", "network"}},
		{"internal/mount", []string{"image", "content", "snapshot", "archive", "runtime", "daemon", "api", "cli"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "-test=false", "./../../"+r.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", r.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range r.forbidden {
				if dep == mod+f || strings.HasPrefix(dep, mod+f+"/") {
					t.Errorf("%s imports %s, which is above or beside it", r.pkg, dep)
				}
			}
		}
	}
}
