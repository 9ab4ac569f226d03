package seccomp

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the compiler's output")

// TestGolden pins the program compiled from small profiles, disassembled:
// a reviewer sees the layout change in the diff.
func TestGolden(t *testing.T) {
	for _, name := range []string{"small"} {
		t.Run(name, func(t *testing.T) {
			prog := mustCompile(t, loadProfile(t, name+".json"), "amd64")
			got := disassemble(prog)
			path := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("program differs from %s (run go test -update if intended)\ngot:\n%s", path, got)
			}
		})
	}
}
