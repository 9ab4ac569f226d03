package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/internal/testutil"
)

// These tests trade archives with independent implementations from
// Debian: skopeo (containers/image) and podman.

// peerImage is the image the peer tests pass around: busybox in one
// layer and a small second layer, gzip-compressed, named
// docker.io/library/busybox:latest.
func peerImage(t *testing.T) (*memStore, builtImage) {
	t.Helper()
	s := newMemStore()
	img := buildImage(t, s, [][]byte{busyboxLayer(t), fileLayer(t, "etc/motd", "hello from berth\n")}, compGzip,
		ocispec.ImageConfig{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/bin"}, Labels: map[string]string{"berth.test": "peer"}})
	return s, img
}

func run(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func skopeo(t *testing.T, args ...string) []byte {
	t.Helper()
	testutil.RequireBinary(t, "skopeo")
	// containers/image puts big temporary files in TMPDIR.
	return run(t, []string{"TMPDIR=" + t.TempDir()}, "skopeo", append([]string{"--insecure-policy"}, args...)...)
}

// loadFile loads an archive file into a fresh store.
func loadFile(t *testing.T, path string) (*memStore, []Loaded) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := newMemStore()
	loaded, err := Load(context.Background(), f, s)
	if err != nil {
		t.Fatalf("Load %s: %v", filepath.Base(path), err)
	}
	return s, loaded
}

// checkSameImage checks that a loaded image has the fixture's names,
// config and layer content: layers may be stored compressed or not, but
// their content must be the diff_ids.
func checkSameImage(t *testing.T, s *memStore, loaded []Loaded, want builtImage, names ...string) {
	t.Helper()
	if len(loaded) != 1 {
		t.Fatalf("got %d images, want 1: %+v", len(loaded), loaded)
	}
	if !slices.Equal(loaded[0].Names, names) {
		t.Errorf("got names %q, want %q", loaded[0].Names, names)
	}
	m := manifestOf(t, s, loaded[0].Manifest)
	cfgData, ok := s.get(m.Config.Digest)
	if !ok {
		t.Fatalf("config %s not stored", m.Config.Digest)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(cfgData, &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.RootFS.DiffIDs, want.diffIDs) || cfg.Config.Labels["berth.test"] != "peer" {
		t.Errorf("got config with diff_ids %v and labels %v, want %v and berth.test=peer", cfg.RootFS.DiffIDs, cfg.Config.Labels, want.diffIDs)
	}
	if len(m.Layers) != len(want.diffIDs) {
		t.Fatalf("got %d layers, want %d", len(m.Layers), len(want.diffIDs))
	}
	for i, l := range m.Layers {
		blob, ok := s.get(l.Digest)
		if !ok {
			t.Errorf("layer %d (%s) not stored", i, l.Digest)
			continue
		}
		rc, c, err := autoDecompress(bytes.NewReader(blob))
		if err != nil {
			t.Fatal(err)
		}
		d, err := digest.SHA256.FromReader(rc)
		rc.Close()
		if err != nil || d != want.diffIDs[i] {
			t.Errorf("layer %d (%s, %s): got content %s, want %s", i, l.MediaType, c, d, want.diffIDs[i])
		}
	}
}

// TestPeerSkopeoToBerth: skopeo writes docker-archive and oci-archive
// tars of an OCI layout the test made; Load reads both.
func TestPeerSkopeoToBerth(t *testing.T) {
	s, img := peerImage(t)
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	entry := img.manifest
	entry.Annotations = map[string]string{ocispec.AnnotationRefName: "busybox"}
	writeOCIDir(t, layout, s, []ocispec.Descriptor{entry})

	docker := filepath.Join(dir, "docker.tar")
	skopeo(t, "copy", "oci:"+layout+":busybox", "docker-archive:"+docker+":busybox:latest")
	ds, loaded := loadFile(t, docker)
	checkSameImage(t, ds, loaded, img, "docker.io/library/busybox:latest")
	if m := manifestOf(t, ds, loaded[0].Manifest); m.Config.Digest != img.config.Digest {
		t.Errorf("got config %s, want skopeo to keep %s", m.Config.Digest, img.config.Digest)
	}

	oci := filepath.Join(dir, "oci.tar")
	skopeo(t, "copy", "oci:"+layout+":busybox", "oci-archive:"+oci+":busybox:latest")
	os_, loaded := loadFile(t, oci)
	checkSameImage(t, os_, loaded, img, "docker.io/library/busybox:latest")
	if loaded[0].Manifest.Digest != img.manifest.Digest {
		t.Errorf("got manifest %s, want skopeo to keep %s", loaded[0].Manifest.Digest, img.manifest.Digest)
	}
}

// inspect is what `skopeo inspect` says of an image.
type inspect struct {
	Digest digest.Digest
	Layers []digest.Digest
}

// TestPeerBerthToSkopeo: skopeo reads what Save writes, both as a
// docker-archive and as an oci-archive.
func TestPeerBerthToSkopeo(t *testing.T) {
	s, img := peerImage(t)
	dir := t.TempDir()
	saved := filepath.Join(dir, "saved.tar")
	saveFile(t, saved, s, Image{Names: []string{"docker.io/library/busybox:latest"}, Manifest: img.manifest})

	for _, transport := range []string{"docker-archive", "oci-archive"} {
		t.Run(transport, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "oci")
			skopeo(t, "copy", transport+":"+saved, "oci:"+out+":copied")
			var got inspect
			if err := json.Unmarshal(skopeo(t, "inspect", "oci:"+out+":copied"), &got); err != nil {
				t.Fatal(err)
			}
			// From a docker-archive, skopeo hands out layers by diff_id
			// and compresses them anew for the OCI layout: compare
			// their content. From an OCI layout, it keeps the blobs.
			if transport == "oci-archive" {
				if want := []digest.Digest{img.layers[0].Digest, img.layers[1].Digest}; !slices.Equal(got.Layers, want) {
					t.Errorf("skopeo inspect: got layers %v, want %v", got.Layers, want)
				}
			}
			if len(got.Layers) != len(img.diffIDs) {
				t.Fatalf("skopeo inspect: got layers %v, want %d", got.Layers, len(img.diffIDs))
			}
			for i, l := range got.Layers {
				f, err := os.Open(filepath.Join(out, "blobs", "sha256", l.Encoded()))
				if err != nil {
					t.Fatal(err)
				}
				rc, _, err := autoDecompress(f)
				if err != nil {
					t.Fatal(err)
				}
				d, err := digest.SHA256.FromReader(rc)
				rc.Close()
				f.Close()
				if err != nil || d != img.diffIDs[i] {
					t.Errorf("layer %d (%s): got content %s, want %s", i, l, d, img.diffIDs[i])
				}
			}
			var cfg ocispec.Image
			if err := json.Unmarshal(skopeo(t, "inspect", "--config", "oci:"+out+":copied"), &cfg); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.RootFS.DiffIDs, img.diffIDs) || !slices.Equal(cfg.Config.Cmd, []string{"/bin/sh"}) {
				t.Errorf("skopeo inspect --config: got diff_ids %v and cmd %q, want %v and /bin/sh", cfg.RootFS.DiffIDs, cfg.Config.Cmd, img.diffIDs)
			}
		})
	}
}

func saveFile(t *testing.T, path string, p Provider, images ...Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(context.Background(), f, images, p); err != nil {
		f.Close()
		t.Fatalf("Save: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// podman runs podman on a store of its own in a temp dir.
func podman(t *testing.T, root string, args ...string) []byte {
	t.Helper()
	testutil.RequireBinary(t, "podman")
	global := []string{
		"--root", filepath.Join(root, "root"), "--runroot", filepath.Join(root, "run"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none",
	}
	return run(t, []string{"TMPDIR=" + filepath.Join(root, "tmp")}, "podman", append(global, args...)...)
}

// TestPeerPodman: podman loads what Save writes (one image: podman reads
// it as an OCI archive; two: as a docker-archive) and saves it back in
// both formats, and as a multi-image docker-archive whose shared layer
// is a symlink; Load reads them all.
func TestPeerPodman(t *testing.T) {
	testutil.RequireRoot(t)
	s, img := peerImage(t)
	other := buildImage(t, s, [][]byte{busyboxLayer(t), fileLayer(t, "other", "2")}, compGzip, ocispec.ImageConfig{Labels: map[string]string{"berth.test": "peer"}})
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// podman's vfs store has read-only files and dirs: make them
		// removable for the temp dir's cleanup.
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	one := filepath.Join(root, "one.tar")
	saveFile(t, one, s, Image{Names: []string{"docker.io/library/busybox:latest"}, Manifest: img.manifest})
	podman(t, root, "load", "-i", one)
	two := filepath.Join(root, "two.tar")
	saveFile(t, two, s, Image{Names: []string{"docker.io/library/busybox:latest"}, Manifest: img.manifest},
		Image{Names: []string{"localhost:5000/other:1"}, Manifest: other.manifest})
	podman(t, root, "load", "-i", two)

	var images []struct {
		ID    string `json:"Id"`
		Names []string
	}
	if err := json.Unmarshal(podman(t, root, "images", "--format", "json"), &images); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range images {
		names = append(names, i.Names...)
	}
	slices.Sort(names)
	if want := []string{"docker.io/library/busybox:latest", "localhost:5000/other:1"}; len(images) != 2 || !slices.Equal(names, want) {
		t.Fatalf("podman images: got %+v, want two images named %q", images, want)
	}

	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(root, format+".tar")
			podman(t, root, "save", "--format", format, "-o", out, "docker.io/library/busybox:latest")
			ls, loaded := loadFile(t, out)
			checkSameImage(t, ls, loaded, img, "docker.io/library/busybox:latest")
		})
	}
	t.Run("multi-image", func(t *testing.T) {
		out := filepath.Join(root, "multi.tar")
		podman(t, root, "save", "-m", "--format", "docker-archive", "-o", out, "docker.io/library/busybox:latest", "localhost:5000/other:1")
		ls, loaded := loadFile(t, out)
		if len(loaded) != 2 {
			t.Fatalf("got %d images, want 2", len(loaded))
		}
		checkSameImage(t, ls, loaded[:1], img, "docker.io/library/busybox:latest")
		checkSameImage(t, ls, loaded[1:], other, "localhost:5000/other:1")
	})
	t.Run("import", func(t *testing.T) {
		desc, err := Import(context.Background(), bytes.NewReader(compressBytes(t, busyboxLayer(t), compGzip)), s, ImportConfig{
			Changes: []string{`CMD ["/bin/sh", "-c", "echo hi"]`, "ENV GREETING=hello", "WORKDIR /srv", "EXPOSE 8080/udp", "LABEL berth.test=import"},
			Message: "imported by the peer test",
		})
		if err != nil {
			t.Fatalf("Import: %v", err)
		}
		out := filepath.Join(root, "imported.tar")
		saveFile(t, out, s, Image{Names: []string{"localhost/imported:1"}, Manifest: desc})
		podman(t, root, "load", "-i", out)
		var inspected []struct {
			Config  ocispec.ImageConfig
			History []ocispec.History
			RootFS  struct{ Layers []digest.Digest }
		}
		if err := json.Unmarshal(podman(t, root, "image", "inspect", "localhost/imported:1"), &inspected); err != nil {
			t.Fatal(err)
		}
		if len(inspected) != 1 {
			t.Fatalf("podman image inspect: got %d images, want 1", len(inspected))
		}
		got := inspected[0]
		_, exposed := got.Config.ExposedPorts["8080/udp"]
		if !slices.Equal(got.Config.Cmd, []string{"/bin/sh", "-c", "echo hi"}) || !slices.Contains(got.Config.Env, "GREETING=hello") ||
			got.Config.WorkingDir != "/srv" || !exposed || got.Config.Labels["berth.test"] != "import" {
			t.Errorf("podman image inspect: got config %+v, want the import's changes", got.Config)
		}
		if want := digest.FromBytes(busyboxLayer(t)); len(got.RootFS.Layers) != 1 || got.RootFS.Layers[0] != want {
			t.Errorf("podman image inspect: got layers %v, want [%s]", got.RootFS.Layers, want)
		}
	})
}
