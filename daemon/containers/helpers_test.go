package containers

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/snapshot"
)

// fakes for the parts of a service that tests without root do not reach.

type fakeImages map[string]image.Named

func (f fakeImages) Get(_ context.Context, ref string) (image.Named, error) {
	if img, ok := f[ref]; ok {
		return img, nil
	}
	return image.Named{}, errdefs.ErrNotFound
}

type noBlobs struct{}

func (noBlobs) ReaderAt(context.Context, digest.Digest) (*content.Reader, error) {
	return nil, errdefs.ErrNotFound
}

type noSnapshots struct{}

func (noSnapshots) Prepare(context.Context, string, string, ...snapshot.Opt) ([]mount.Mount, error) {
	return nil, errdefs.ErrNotImplemented
}
func (noSnapshots) Mounts(context.Context, string) ([]mount.Mount, error) {
	return nil, errdefs.ErrNotFound
}
func (noSnapshots) Remove(context.Context, string) error { return nil }
func (noSnapshots) Usage(context.Context, string) (snapshot.Usage, error) {
	return snapshot.Usage{}, errdefs.ErrNotFound
}
func (noSnapshots) Walk(context.Context, func(snapshot.Info) error) error { return nil }

type eventLog struct {
	mu  sync.Mutex
	got []events.Message
}

func (e *eventLog) Publish(m events.Message) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, m)
}

func (e *eventLog) actions() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, m := range e.got {
		out = append(out, string(m.Action)+" "+m.Actor.Attributes["name"])
	}
	return out
}

// testService is a service over a temporary database and directories,
// with fakes for images, blobs and snapshots.
func testService(t *testing.T, imgs fakeImages) (*Service, *eventLog) {
	t.Helper()
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "berth.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ev := &eventLog{}
	s, err := New(Options{
		DB: db, Images: imgs, Blobs: noBlobs{}, Snapshots: noSnapshots{}, Events: ev,
		DataRoot: filepath.Join(dir, "data"), ExecRoot: filepath.Join(dir, "exec"), Shim: "/nonexistent/berth-shim",
		Runtime: func(name string) (string, error) { return "/nonexistent/" + name, nil },
		Driver:  "overlayfs",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background(), false, 0) })
	return s, ev
}

// addRecord records a container as Create would have, in the given state.
func addRecord(t *testing.T, s *Service, id, name string, st state, created time.Time, img digest.Digest, labels map[string]string) *ctr {
	t.Helper()
	if len(id) < 64 {
		id += strings.Repeat("0", 64-len(id))
	}
	r := &record{
		ID: id, Name: name, Created: created, ImageID: img,
		Config:     &container.Config{Image: "busybox", Cmd: []string{"sleep", "1"}, Labels: labels},
		HostConfig: &container.HostConfig{NetworkMode: "bridge", RestartPolicy: container.RestartPolicy{Name: "no"}},
		Path:       "sleep", Args: []string{"1"}, State: st, Platform: "linux", Driver: "overlayfs",
	}
	if err := putRecord(s.o.DB, r); err != nil {
		t.Fatal(err)
	}
	return s.add(r)
}
