package image_test

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/image/registry"
	"github.com/berth-dev/berth/internal/testimage"
	"github.com/berth-dev/berth/internal/testregistry"
	"github.com/berth-dev/berth/snapshot"
)

// Environment of the pulling child of TestPullKilled.
const (
	childRoot = "BERTH_IMAGE_TEST_PULL_ROOT"
	childRef  = "BERTH_IMAGE_TEST_PULL_REF"
)

func TestMain(m *testing.M) {
	if root := os.Getenv(childRoot); root != "" {
		os.Exit(pullChild(root, os.Getenv(childRef)))
	}
	os.Exit(m.Run())
}

// pullChild pulls ref into root, as a berthd would, until it is killed.
func pullChild(root, ref string) int {
	t := &testing.T{}
	e := newEnvNoCleanup(t, root, registry.Options{})
	if e == nil {
		return 2
	}
	if _, err := e.svc.Pull(context.Background(), ref, image.PullOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// bigImage has a layer of incompressible bytes, large enough to be
// caught mid-download.
func bigImage(t *testing.T, size int) *testimage.Image {
	data := make([]byte, size)
	rand.Read(data)
	return testimage.Build(t, testimage.Spec{Layers: []testimage.Layer{
		{Files: []testimage.File{{Name: "small", Data: []byte("small\n")}}},
		{Files: []testimage.File{{Name: "big", Data: data}}},
	}})
}

// throttled passes a response on in 64 KiB pieces, one per 20 ms.
type throttled struct {
	http.ResponseWriter
	sent *atomic.Int64
}

func (w throttled) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		k := min(len(b), 64<<10)
		m, err := w.ResponseWriter.Write(b[:k])
		n += m
		w.sent.Add(int64(m))
		if err != nil {
			return n, err
		}
		w.ResponseWriter.(http.Flusher).Flush()
		b = b[k:]
		time.Sleep(20 * time.Millisecond)
	}
	return n, nil
}

// TestPullKilled kills a pulling process with SIGKILL midway through a
// layer; the next pull resumes the download, completes, and fsck finds
// the store consistent.
func TestPullKilled(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.Options{})
	img := bigImage(t, 8<<20)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("killed", ":1"), "")
	big := img.Layers[1].Digest.String()
	var sent atomic.Int64
	var mu sync.Mutex
	var ranges []string
	proxy := testregistry.StartProxy(t, reg.Host, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+big) {
				mu.Lock()
				ranges = append(ranges, r.Header.Get("Range"))
				mu.Unlock()
				w = throttled{w, &sent}
			}
			next.ServeHTTP(w, r)
		})
	})
	ref := proxy.Host + "/killed:1"
	root := t.TempDir()
	newEnv(t, root, registry.Options{}).close() // the store exists before the child starts

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childRoot+"="+root, childRef+"="+ref)
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for sent.Load() < 2<<20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	if sent.Load() < 2<<20 {
		t.Fatalf("the child pulled only %d bytes of the big layer before the deadline", sent.Load())
	}

	e := newEnv(t, root, registry.Options{})
	if err := e.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Pull(ctx, ref, image.PullOptions{})
	if err != nil {
		t.Fatalf("pull after the puller was killed: %v", err)
	}
	if got.ID != img.Config.Digest {
		t.Errorf("got image %s, want %s", got.ID, img.Config.Digest)
	}
	mu.Lock()
	if len(ranges) < 2 || !strings.HasPrefix(ranges[len(ranges)-1], "bytes=") {
		t.Errorf("requests for the big layer had Range headers %q; want the last to resume", ranges)
	}
	mu.Unlock()
	if r, err := e.svc.Fsck(ctx, false); err != nil || !r.OK() {
		t.Errorf("fsck after the resumed pull: %+v, %v", r, err)
	}
	e.snap.Walk(ctx, func(i snapshot.Info) error {
		if i.Kind != snapshot.KindCommitted {
			t.Errorf("snapshot %s (%s) left by the killed pull", i.Name, i.Kind)
		}
		return nil
	})
}

// TestPullConcurrent pulls one image twice at once: both succeed and the
// layer is fetched once.
func TestPullConcurrent(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.Options{})
	img := bigImage(t, 2<<20)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("twice", ":1"), "")
	big := img.Layers[1].Digest.String()
	var gets atomic.Int32
	var sent atomic.Int64
	proxy := testregistry.StartProxy(t, reg.Host, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+big) {
				gets.Add(1)
				w = throttled{w, &sent}
			}
			next.ServeHTTP(w, r)
		})
	})
	e := newEnv(t, t.TempDir(), registry.Options{})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.Pull(ctx, proxy.Host+"/twice:1", image.PullOptions{})
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("concurrent pulls: %v", errs)
	}
	if n := gets.Load(); n != 1 {
		t.Errorf("the big layer was fetched %d times, want once", n)
	}
	if r, err := e.svc.Fsck(ctx, false); err != nil || !r.OK() {
		t.Errorf("fsck: %+v, %v", r, err)
	}
}

// TestPullDiskFull pulls into a content store on a filesystem too small
// for the image: a clear error, and the store stays intact.
func TestPullDiskFull(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.Options{})
	img := bigImage(t, 3<<20)
	testimage.Push(t, img.Manifest, img.Blobs, reg.Ref("full", ":1"), "")
	root := t.TempDir()
	if err := os.MkdirAll(root+"/content", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", root+"/content", "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount a small tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(root+"/content", unix.MNT_DETACH) })
	e := newEnv(t, root, registry.Options{})
	_, err := e.svc.Pull(ctx, reg.Ref("full", ":1"), image.PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("pull onto a full disk: got %v, want an error saying the disk is full", err)
	}
	if _, err := e.svc.Store.Get(ctx, reg.Ref("full", ":1")); err == nil {
		t.Errorf("image recorded after a failed pull")
	}
	e.cs.Walk(ctx, func(i content.Info) error {
		if err := e.cs.Verify(ctx, i.Digest); err != nil {
			t.Errorf("blob %s after the failed pull: %v", i.Digest, err)
		}
		return nil
	})
	// A smaller image still fits.
	small := testimage.Small(t, "fits", testimage.Gzip, false)
	testimage.Push(t, small.Manifest, small.Blobs, reg.Ref("fits", ":1"), "")
	if err := e.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Pull(ctx, reg.Ref("fits", ":1"), image.PullOptions{}); err != nil {
		t.Errorf("pull of a small image after a full disk: %v", err)
	}
}

var _ = tar.TypeReg
