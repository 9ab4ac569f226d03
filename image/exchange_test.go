package image_test

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

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/image/registry"
	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/internal/testregistry"
	"github.com/berth-dev/berth/internal/testutil"
)

// TestPush pushes a pulled image to another repository of the same
// registry (its blobs are mounted, not uploaded) and to a second
// registry; skopeo, the independent client, reads both back.
func TestPush(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.Options{})
	img := layered(t)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("src", ":1"), "")
	proxy := testregistry.StartProxy(t, reg.Host, nil)
	e := newEnv(t, t.TempDir(), registry.Options{})
	if _, err := e.svc.Pull(ctx, proxy.Host+"/src:1", image.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Store.Tag(ctx, img.Config.Digest, proxy.Host+"/dst:2"); err != nil {
		t.Fatal(err)
	}
	var log progressLog
	desc, err := e.svc.Push(ctx, proxy.Host+"/dst:2", log.add)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != img.Manifest.Digest {
		t.Errorf("pushed manifest %s, want the pulled %s", desc.Digest, img.Manifest.Digest)
	}
	for _, r := range proxy.Requests() {
		if strings.HasPrefix(r, "PATCH ") || strings.HasPrefix(r, "PUT /v2/dst/blobs/uploads/") && !strings.Contains(r, "mount") {
			t.Errorf("push to the same registry uploaded a blob (%s); want every blob mounted from src", r)
		}
	}
	_, blobs := testimage.Pull(t, reg.Ref("dst", ":2"), "")
	for _, l := range img.Layers {
		if _, ok := blobs[l.Digest]; !ok {
			t.Errorf("skopeo did not find layer %s in the pushed image", l.Digest)
		}
	}

	// A second registry, with basic auth: every blob uploads.
	other := testregistry.Start(t, testregistry.Options{Auth: testregistry.AuthBasic})
	config := filepath.Join(t.TempDir(), "config.json")
	writeDockerConfig(t, config, other.Host, other.User, other.Password)
	e2 := newEnv(t, t.TempDir(), registry.Options{ConfigPath: config})
	var buf bytes.Buffer
	if err := e.svc.Save(ctx, &buf, []string{img.Config.Digest.String()}); err != nil {
		t.Fatal(err)
	}
	loaded, err := e2.svc.Load(ctx, &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	e2.svc.Store.Tag(ctx, loaded[0].ID, other.Ref("copy", ":3"))
	if _, err := e2.svc.Push(ctx, other.Ref("copy", ":3"), nil); err != nil {
		t.Fatal(err)
	}
	desc2, _ := testimage.Pull(t, other.Ref("copy", ":3"), other.Creds())
	if desc2.Digest != img.Manifest.Digest {
		t.Errorf("skopeo read manifest %s from the second registry, want %s", desc2.Digest, img.Manifest.Digest)
	}
}

// TestImport imports a rootfs tarball with config changes.
func TestImport(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, t.TempDir(), registry.Options{})
	tarball, err := testimage.Tar(append(testimage.BusyboxFiles(t), testimage.File{Name: "hello", Data: []byte("imported\n")}))
	if err != nil {
		t.Fatal(err)
	}
	img, err := e.svc.Import(ctx, bytes.NewReader(tarball), image.ImportOptions{
		Ref:     "imported:v1",
		Changes: []string{`CMD ["/bin/sh", "-c", "cat /hello"]`, "ENV A=b", "WORKDIR /srv"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(img.Names, "docker.io/library/imported:v1") || len(img.Layers) != 1 {
		t.Errorf("import: got names %q and %d layers, want imported:v1 and one layer", img.Names, len(img.Layers))
	}
	raw, err := os.ReadFile(blobPath(t, e, img.Config))
	if err != nil {
		t.Fatal(err)
	}
	var cfg ocispec.Image
	json.Unmarshal(raw, &cfg)
	if !slices.Equal(cfg.Config.Cmd, []string{"/bin/sh", "-c", "cat /hello"}) || cfg.Config.WorkingDir != "/srv" || !slices.Contains(cfg.Config.Env, "A=b") {
		t.Errorf("imported config: got %+v, want the CMD, ENV and WORKDIR changes", cfg.Config)
	}
	dir, _ := e.rootfs(t, img)
	if got, _ := os.ReadFile(filepath.Join(dir, "hello")); string(got) != "imported\n" {
		t.Errorf("imported /hello: got %q", got)
	}
}

func blobPath(t *testing.T, e *env, d ocispec.Descriptor) string {
	t.Helper()
	p, err := e.cs.Path(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPodmanRoundTrip saves with berth and loads with podman, then saves
// with podman in both formats and loads with berth.
func TestPodmanRoundTrip(t *testing.T) {
	ctx := context.Background()
	podman := testutil.RequireBinary(t, "podman")
	reg := testregistry.Start(t, testregistry.Options{})
	img := layeredWith(t, testimage.Gzip) // podman converts no zstd layer to docker-archive
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("round", ":trip"), "")
	e := newEnv(t, t.TempDir(), registry.Options{})
	if _, err := e.svc.Pull(ctx, reg.Ref("round", ":trip"), image.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ours := filepath.Join(dir, "berth.tar")
	f, _ := os.Create(ours)
	if err := e.svc.Save(ctx, f, []string{reg.Ref("round", ":trip")}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	store := t.TempDir()
	pm := func(t *testing.T, args ...string) string {
		t.Helper()
		base := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs"}
		out, err := exec.Command(podman, append(base, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	pm(t, "load", "-i", ours)
	if id := strings.TrimSpace(pm(t, "image", "inspect", "--format", "{{.ID}}", reg.Ref("round", ":trip"))); id != img.Config.Digest.Encoded() {
		t.Errorf("podman's image ID after loading berth's save: got %s, want %s", id, img.Config.Digest.Encoded())
	}
	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run(format, func(t *testing.T) {
			theirs := filepath.Join(dir, format+".tar")
			pm(t, "save", "--format", format, "-o", theirs, reg.Ref("round", ":trip"))
			e2 := newEnv(t, t.TempDir(), registry.Options{})
			f, err := os.Open(theirs)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			loaded, err := e2.svc.Load(ctx, f, nil)
			if err != nil {
				t.Fatalf("load podman's %s: %v", format, err)
			}
			if len(loaded) != 1 || loaded[0].ID != img.Config.Digest {
				t.Fatalf("load podman's %s: got %+v, want image %s", format, loaded, img.Config.Digest)
			}
			d, _ := e2.rootfs(t, loaded[0])
			checkLayered(t, d)
		})
	}
}
