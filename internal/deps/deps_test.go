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
