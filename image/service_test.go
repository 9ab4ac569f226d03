package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/image/registry"
	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/internal/testregistry"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/snapshot"
	"github.com/berth-dev/berth/snapshot/native"
	"github.com/berth-dev/berth/snapshot/overlay"
)

// env is an image service over a fresh data root, as berthd wires one.
type env struct {
	root string
	db   *bolt.DB
	cs   *content.Store
	snap snapshot.Snapshotter
	svc  *image.Service

	closeOnce sync.Once
}

func newEnv(t *testing.T, root string, reg registry.Options) *env {
	t.Helper()
	testutil.RequireRoot(t)
	e, err := openEnv(root, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

// newEnvNoCleanup is newEnv for a child process that is never a test.
func newEnvNoCleanup(_ *testing.T, root string, reg registry.Options) *env {
	e, err := openEnv(root, reg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return nil
	}
	return e
}

func openEnv(root string, reg registry.Options) (*env, error) {
	return openEnvWith(root, reg, func(root string, db *bolt.DB) (snapshot.Snapshotter, error) { return overlay.New(root, db) })
}

// openEnvWith is openEnv with another snapshotter.
func openEnvWith(root string, reg registry.Options, newSnap func(string, *bolt.DB) (snapshot.Snapshotter, error)) (*env, error) {
	db, err := bolt.Open(filepath.Join(root, "berth.db"), 0o600, &bolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	cs, err := content.Open(filepath.Join(root, "content"))
	if err != nil {
		db.Close()
		return nil, err
	}
	snap, err := newSnap(root, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	svc, err := image.NewService(db, cs, snap, registry.New(reg))
	if err != nil {
		snap.Close()
		db.Close()
		return nil, err
	}
	return &env{root: root, db: db, cs: cs, snap: snap, svc: svc}, nil
}

func (e *env) close() {
	e.closeOnce.Do(func() {
		e.snap.Close()
		e.db.Close()
	})
}

// layered is a three-layer image that exercises whiteouts: layer 2
// deletes a file and makes a directory opaque, layer 3 is zstd.
func layered(t *testing.T) *testimage.Image {
	return layeredWith(t, testimage.Zstd)
}

// layeredWith is layered with layer 3 compressed with c.
func layeredWith(t *testing.T, c testimage.Compression) *testimage.Image {
	files := append(testimage.BusyboxFiles(t),
		testimage.File{Name: "etc/", Type: tar.TypeDir},
		testimage.File{Name: "etc/gone", Data: []byte("deleted by layer 2\n")},
		testimage.File{Name: "etc/kept", Data: []byte("kept\n")},
		testimage.File{Name: "opq/", Type: tar.TypeDir},
		testimage.File{Name: "opq/old", Data: []byte("hidden by the opaque dir\n")},
	)
	return testimage.Build(t, testimage.Spec{
		Cmd: []string{"/bin/sh"},
		Layers: []testimage.Layer{
			{Compression: testimage.Gzip, Files: files},
			{Compression: testimage.Gzip, Files: []testimage.File{
				{Name: "etc/.wh.gone"},
				{Name: "opq/", Type: tar.TypeDir},
				{Name: "opq/.wh..wh..opq"},
				{Name: "opq/new", Data: []byte("new\n")},
			}},
			{Compression: c, Files: []testimage.File{{Name: "etc/third", Data: []byte("3\n")}}},
		},
	})
}

// rootfs mounts a read-only view of an image's top layer and returns
// its directory and what unmounts it (also run at the end of the test).
func (e *env) rootfs(t *testing.T, img image.Named) (string, func()) {
	t.Helper()
	chain := img.ChainIDs()
	key := "view-" + t.Name()
	mounts, err := e.snap.View(context.Background(), key, chain[len(chain)-1].String())
	if err != nil {
		t.Fatalf("view of %s: %v", img.ID, err)
	}
	dir := t.TempDir()
	if err := mount.All(mounts, dir); err != nil {
		t.Fatalf("mount view: %v", err)
	}
	var once sync.Once
	done := func() {
		once.Do(func() {
			if err := mount.Unmount(dir); err != nil {
				t.Errorf("unmount view: %v", err)
			}
			if err := e.snap.Remove(context.Background(), key); err != nil {
				t.Errorf("remove view: %v", err)
			}
		})
	}
	t.Cleanup(done)
	return dir, done
}

func checkLayered(t *testing.T, dir string) {
	t.Helper()
	for name, want := range map[string]string{"etc/kept": "kept\n", "opq/new": "new\n", "etc/third": "3\n"} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"etc/gone", "opq/old", "etc/.wh.gone", "opq/.wh..wh..opq"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: got %v, want it absent", name, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "bin/sh")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("bin/sh: got %v, %v; want an executable", fi, err)
	}
}

// progressLog records progress messages.
type progressLog struct {
	mu   sync.Mutex
	msgs []image.Progress
}

func (p *progressLog) add(m image.Progress) {
	p.mu.Lock()
	p.msgs = append(p.msgs, m)
	p.mu.Unlock()
}

func (p *progressLog) count(status string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.msgs {
		if m.Status == status {
			n++
		}
	}
	return n
}

func TestPull(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{})
	img := layered(t)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("app", ":v1"), "")
	t.Run("overlay", func(t *testing.T) { testPull(t, reg, img, newEnv(t, t.TempDir(), registry.Options{})) })
	// The copying snapshotter cannot rebase: layers unpack one after another.
	t.Run("native", func(t *testing.T) {
		testutil.RequireRoot(t)
		e, err := openEnvWith(t.TempDir(), registry.Options{}, func(root string, db *bolt.DB) (snapshot.Snapshotter, error) { return native.New(root, db) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.close)
		testPull(t, reg, img, e)
	})
}

func testPull(t *testing.T, reg *testregistry.Registry, img *testimage.Image, e *env) {
	ctx := context.Background()

	var log progressLog
	got, err := e.svc.Pull(ctx, reg.Ref("app", ":v1"), image.PullOptions{Progress: log.add})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != img.Config.Digest {
		t.Errorf("image ID: got %s, want the config digest %s", got.ID, img.Config.Digest)
	}
	wantNames := []string{reg.Ref("app", ":v1"), reg.Ref("app", "@"+img.Manifest.Digest.String())}
	slices.Sort(wantNames)
	if slices.Sort(got.Names); !slices.Equal(got.Names, wantNames) {
		t.Errorf("names: got %q, want %q", got.Names, wantNames)
	}
	if n := log.count("Pull complete"); n != 3 {
		t.Errorf("progress: got %d \"Pull complete\", want 3 (%+v)", n, log.msgs)
	}
	dir, unmount := e.rootfs(t, got)
	checkLayered(t, dir)
	unmount()

	// Again: nothing is fetched, every layer already exists.
	var again progressLog
	if _, err := e.svc.Pull(ctx, reg.Ref("app", ":v1"), image.PullOptions{Progress: again.add}); err != nil {
		t.Fatal(err)
	}
	if n := again.count("Already exists"); n != 3 {
		t.Errorf("second pull: got %d \"Already exists\", want 3", n)
	}
	// By digest.
	byDigest, err := e.svc.Pull(ctx, reg.Ref("app", "@"+img.Manifest.Digest.String()), image.PullOptions{})
	if err != nil || byDigest.ID != got.ID {
		t.Errorf("pull by digest: got %s, %v; want %s", byDigest.ID, err, got.ID)
	}
	if r, err := e.svc.Fsck(ctx, false); err != nil || !r.OK() {
		t.Errorf("fsck after pull: %+v, %v", r, err)
	}
	checkUsage(t, e)

	// Delete and collect: nothing is left.
	if err := e.svc.Store.Delete(ctx, got.ID); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Snapshots) != 3 || len(res.Blobs) != 5 {
		t.Errorf("GC: removed %d snapshots and %d blobs, want 3 and 5 (manifest, config, 3 layers)", len(res.Snapshots), len(res.Blobs))
	}
	checkEmpty(t, e)
}

// checkEmpty checks that the store holds no blob and no snapshot.
func checkEmpty(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	e.cs.Walk(ctx, func(i content.Info) error {
		t.Errorf("blob %s left", i.Digest)
		return nil
	})
	e.snap.Walk(ctx, func(i snapshot.Info) error {
		t.Errorf("snapshot %s (%s) left", i.Name, i.Kind)
		return nil
	})
}

func TestPullAuth(t *testing.T) {
	img := testimage.Small(t, "auth", testimage.Gzip, true)
	for _, auth := range []testregistry.Auth{testregistry.AuthBasic, testregistry.AuthToken} {
		t.Run(auth.String(), func(t *testing.T) {
			reg := testregistry.Start(t, testregistry.Options{Auth: auth})
			testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("private/app", ":1"), reg.Creds())
			config := filepath.Join(t.TempDir(), "config.json")
			writeDockerConfig(t, config, reg.Host, reg.User, reg.Password)
			e := newEnv(t, t.TempDir(), registry.Options{ConfigPath: config})
			if _, err := e.svc.Pull(context.Background(), reg.Ref("private/app", ":1"), image.PullOptions{}); err != nil {
				t.Fatalf("pull with credentials from %s: %v", config, err)
			}
			anon := newEnv(t, t.TempDir(), registry.Options{ConfigPath: filepath.Join(t.TempDir(), "none.json")})
			if _, err := anon.svc.Pull(context.Background(), reg.Ref("private/app", ":1"), image.PullOptions{}); err == nil {
				t.Errorf("anonymous pull from a %s registry succeeded", auth)
			}
		})
	}
}

func TestPullPlatform(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{})
	host := image.DefaultPlatform()
	other := ocispec.Platform{OS: "linux", Architecture: "s390x"}
	mine := testimage.Build(t, testimage.Spec{Platform: host, Layers: []testimage.Layer{{Files: []testimage.File{{Name: "which", Data: []byte("host\n")}}}}})
	theirs := testimage.Build(t, testimage.Spec{Platform: other, Layers: []testimage.Layer{{Files: []testimage.File{{Name: "which", Data: []byte("s390x\n")}}}}})
	idx := testimage.NewIndex(t, false, theirs, mine)
	testimage.Push(t, idx.Desc, idx.Blobs, reg.Ref("multi", ":latest"), "")
	e := newEnv(t, t.TempDir(), registry.Options{})
	got, err := e.svc.Pull(context.Background(), reg.Ref("multi", ""), image.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != mine.Config.Digest || got.Target.Digest != idx.Desc.Digest {
		t.Errorf("pull of an index: got image %s from %s, want %s (the host's platform) from %s", got.ID, got.Target.Digest, mine.Config.Digest, idx.Desc.Digest)
	}
	if _, err := e.svc.Pull(context.Background(), reg.Ref("multi", ""), image.PullOptions{Platform: ocispec.Platform{OS: "linux", Architecture: "mips64"}}); err == nil {
		t.Errorf("pull for a platform the index lacks succeeded")
	}
	s390, err := e.svc.Pull(context.Background(), reg.Ref("multi", ""), image.PullOptions{Platform: other})
	if err != nil || s390.ID != theirs.Config.Digest {
		t.Errorf("pull --platform linux/s390x: got %s, %v; want %s", s390.ID, err, theirs.Config.Digest)
	}
}

func TestFsckCorruptBlob(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.Options{})
	img := testimage.Small(t, "fsck", testimage.Gzip, false)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("fsck", ":1"), "")
	e := newEnv(t, t.TempDir(), registry.Options{})
	if _, err := e.svc.Pull(ctx, reg.Ref("fsck", ":1"), image.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	path, _ := e.cs.Path(img.Layers[0].Digest)
	os.Chmod(path, 0o644)
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0xff
	os.WriteFile(path, data, 0o444)

	r, err := e.svc.Fsck(ctx, false)
	if err != nil || r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), img.Layers[0].Digest.String()) {
		t.Fatalf("fsck of a corrupt blob: got %+v, %v; want a problem naming %s", r, err, img.Layers[0].Digest)
	}
	if r, err = e.svc.Fsck(ctx, true); err != nil || len(r.Repaired) == 0 {
		t.Fatalf("fsck --repair: got %+v, %v", r, err)
	}
	// The image lacks the blob now; pulling again restores it.
	if _, err := e.svc.Pull(ctx, reg.Ref("fsck", ":1"), image.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.svc.Fsck(ctx, false); err != nil || !r.OK() {
		t.Errorf("fsck after a new pull: %+v, %v", r, err)
	}
}

func TestPullBadRegistry(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.Options{})
	img := testimage.Small(t, "faults", testimage.Gzip, false)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("faults", ":1"), "")
	layer := img.Layers[1].Digest.String()
	for _, tc := range []struct {
		name string
		// wrap breaks the answer for the layer's blob
		wrap func(w http.ResponseWriter) http.ResponseWriter
		ok   bool
	}{
		{"corrupt body", func(w http.ResponseWriter) http.ResponseWriter { return testregistry.Corrupt(w, 10) }, false},
		{"truncated once then resumed", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var once sync.Once
			proxy := testregistry.StartProxy(t, reg.Host, func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if strings.HasSuffix(r.URL.Path, "/blobs/"+layer) && r.Method == http.MethodGet {
						if tc.wrap != nil {
							w = tc.wrap(w)
						} else {
							once.Do(func() { w = testregistry.CutAfter(w, img.Layers[1].Size/2) })
						}
					}
					next.ServeHTTP(w, r)
				})
			})
			e := newEnv(t, t.TempDir(), registry.Options{})
			_, err := e.svc.Pull(ctx, proxy.Host+"/faults:1", image.PullOptions{})
			if tc.ok {
				if err != nil {
					t.Fatalf("pull through a proxy that cut the layer once: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), layer) {
				t.Fatalf("pull of a corrupt layer: got %v, want an error naming %s", err, layer)
			}
			if _, err := e.cs.Info(ctx, img.Layers[1].Digest); !errdefs.IsNotFound(err) {
				t.Errorf("corrupt layer stored: %v", err)
			}
			if _, err := e.svc.Store.Get(ctx, proxy.Host+"/faults:1"); !errdefs.IsNotFound(err) {
				t.Errorf("image recorded after a failed pull: %v", err)
			}
			e.snap.Walk(ctx, func(i snapshot.Info) error {
				if i.Kind != snapshot.KindCommitted {
					t.Errorf("staging snapshot %s left after a failed pull", i.Name)
				}
				return nil
			})
		})
	}
}

func TestSaveLoad(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.Options{})
	img := layered(t)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("saved", ":1"), "")
	src := newEnv(t, t.TempDir(), registry.Options{})
	pulled, err := src.svc.Pull(ctx, reg.Ref("saved", ":1"), image.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := src.svc.Save(ctx, &buf, []string{reg.Ref("saved", ":1")}); err != nil {
		t.Fatal(err)
	}
	dst := newEnv(t, t.TempDir(), registry.Options{})
	loaded, err := dst.svc.Load(ctx, &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || loaded[0].ID != pulled.ID || !slices.Contains(loaded[0].Names, reg.Ref("saved", ":1")) {
		t.Fatalf("load: got %+v, want %s named %s", loaded, pulled.ID, reg.Ref("saved", ":1"))
	}
	dir, _ := dst.rootfs(t, loaded[0])
	checkLayered(t, dir)
	if r, err := dst.svc.Fsck(ctx, false); err != nil || !r.OK() {
		t.Errorf("fsck after load: %+v, %v", r, err)
	}
}

// writeDockerConfig writes a docker config.json with one registry's
// credentials.
func writeDockerConfig(t *testing.T, path, host, user, pass string) {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	data, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

var _ = digest.FromString

// checkUsage checks that the store's disk usage adds up to what its
// directories hold: every snapshot and blob once.
func checkUsage(t *testing.T, e *env) {
	t.Helper()
	u, err := e.svc.DiskUsage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var layers int64
	for _, l := range u.Layers {
		layers += l.Size
	}
	if layers != u.SnapshotBytes || u.SnapshotBytes == 0 || u.BlobBytes == 0 {
		t.Errorf("usage: layers add up to %d, SnapshotBytes %d, BlobBytes %d", layers, u.SnapshotBytes, u.BlobBytes)
	}
	var blobs int64
	filepath.Walk(filepath.Join(e.root, "content", "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			blobs += fi.Size()
		}
		return nil
	})
	if blobs != u.BlobBytes {
		t.Errorf("usage: BlobBytes %d, but the blob files hold %d bytes", u.BlobBytes, blobs)
	}
	if len(u.Images) != 1 || u.Images[0].Size != u.SnapshotBytes || u.Images[0].Shared != 0 {
		t.Errorf("usage of the one image: got %+v, want all %d snapshot bytes, none shared", u.Images, u.SnapshotBytes)
	}
}
