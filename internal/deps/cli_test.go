package deps

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCLIStaysLight keeps the berth CLI a client of the API: it never
// links the daemon's packages or the registry client (binary size), and
// reads config.json credentials through internal/dockerconfig.
func TestCLIStaysLight(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/berth-dev/berth/cmd/berth").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const mod = "github.com/berth-dev/berth/"
	forbidden := []string{
		"github.com/google/go-containerregistry", "go.etcd.io/bbolt",
		mod + "image", mod + "daemon", mod + "api/server", mod + "runtime", mod + "shim",
		mod + "snapshot", mod + "content", mod + "network", mod + "build", mod + "volume",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("cmd/berth imports %s; the CLI speaks to berthd only through the API client", dep)
			}
		}
	}
}

// TestDockerConfigDeps keeps internal/dockerconfig, which the CLI and the
// daemon share, on the standard library and errdefs.
func TestDockerConfigDeps(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", "-test=false",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/berth-dev/berth/internal/dockerconfig").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	allowed := map[string]bool{"github.com/containerd/errdefs": true, "github.com/berth-dev/berth/internal/dockerconfig": true}
	for _, dep := range strings.Fields(string(out)) {
		if !allowed[dep] {
			t.Errorf("internal/dockerconfig imports %s; keep it to the standard library and errdefs", dep)
		}
	}
}
