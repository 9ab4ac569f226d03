package exchange

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/{FuzzLoad,FuzzApplyChanges} from the fixtures")

// changeSeeds are change lines of each form ApplyChanges reads.
var changeSeeds = []string{`CMD ["a"]`, `ENV A=1 B="x y" C=${A:-d}`, `ENV A b c`, `EXPOSE 80-90/udp`, `VOLUME ["/v"]`,
	`WORKDIR $A/b`, `LABEL a=b`, `USER 1:1`, `STOPSIGNAL SIGRTMIN+1`, `ENV A=${B:+$C}`, `ENV A='x`}

// loadSeeds are small archives of each kind Load reads.
func loadSeeds(t testing.TB) [][]byte {
	s := newMemStore()
	img := buildImage(t, s, [][]byte{fileLayer(t, "a", "1"), fileLayer(t, "b", "2")}, compGzip, ocispec.ImageConfig{Cmd: []string{"/a"}})
	var saved bytes.Buffer
	if err := Save(context.Background(), &saved, []Image{{Names: []string{"docker.io/library/a:latest"}, Manifest: img.manifest}}, s); err != nil {
		t.Fatal(err)
	}
	legacy, _, _ := legacyArchive(t, fileLayer(t, "one", "1"), fileLayer(t, "two", "2"), fileLayer(t, "three", "3"))
	layer := fileLayer(t, "z", "zz")
	zstdArchive := makeTar(t, []tarFile{
		{name: "c.json", body: dockerConfig(t, []digest.Digest{digest.FromBytes(layer)})},
		{name: "l.tar", body: compressBytes(t, layer, compZstd)},
		{name: "manifest.json", body: mustJSON(t, []dockerManifest{{Config: "c.json", Layers: []string{"l.tar"}}})},
	})
	return [][]byte{saved.Bytes(), makeTar(t, legacy), compressBytes(t, makeTar(t, legacy), compGzip), zstdArchive}
}

func TestFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the seeds")
	}
	write := func(target string, i int, body string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte("go test fuzz v1\n"+body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, seed := range loadSeeds(t) {
		write("FuzzLoad", i, fmt.Sprintf("[]byte(%q)", seed))
	}
	for i, seed := range changeSeeds {
		write("FuzzApplyChanges", i, fmt.Sprintf("string(%q)", seed))
	}
}

// FuzzLoad checks that no archive makes Load panic, and that what it
// returns is in the store.
func FuzzLoad(f *testing.F) {
	for _, seed := range loadSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newMemStore()
		loaded, err := Load(context.Background(), bytes.NewReader(data), s)
		if err != nil {
			return
		}
		for _, l := range loaded {
			if _, ok := s.get(l.Manifest.Digest); !ok {
				t.Errorf("loaded manifest %s is not in the store", l.Manifest.Digest)
			}
			for _, n := range l.Names {
				if _, err := parseRef(n); err != nil {
					t.Errorf("loaded name %q: %v", n, err)
				}
			}
		}
	})
}

// FuzzApplyChanges checks that no change line makes the parser panic.
func FuzzApplyChanges(f *testing.F) {
	for _, c := range changeSeeds {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, change string) {
		var c ocispec.ImageConfig
		ApplyChanges(&c, []string{"ENV A=1", change})
	})
}
