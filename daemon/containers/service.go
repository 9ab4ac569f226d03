package containers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/content"
	"github.com/berth-dev/berth/daemon/spec"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/mount"
	netsvc "github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/shim"
	"github.com/berth-dev/berth/snapshot"
)

// ImageStore finds images (image.Store).
type ImageStore interface {
	Get(ctx context.Context, ref string) (image.Named, error)
}

// BlobReader opens committed blobs, for image configs (content.Store).
type BlobReader interface {
	ReaderAt(ctx context.Context, dgst digest.Digest) (*content.Reader, error)
}

// Snapshotter keeps the containers' read-write layers
// (snapshot.Snapshotter).
type Snapshotter interface {
	Prepare(ctx context.Context, key, parent string, opts ...snapshot.Opt) ([]mount.Mount, error)
	Mounts(ctx context.Context, key string) ([]mount.Mount, error)
	Remove(ctx context.Context, key string) error
	Usage(ctx context.Context, key string) (snapshot.Usage, error)
	Walk(ctx context.Context, fn func(snapshot.Info) error) error
}

// ImageCommitter makes images of container layers (image.Service).
type ImageCommitter interface {
	Commit(ctx context.Context, o image.CommitOptions) (image.Named, error)
}

// Publisher records events (daemon/events.Bus).
type Publisher interface {
	Publish(events.Message)
}

// Options configure the service. Every path and program comes from here:
// two services over different roots can run side by side.
type Options struct {
	DB        *bolt.DB
	Images    ImageStore
	Blobs     BlobReader
	Snapshots Snapshotter
	Events    Publisher
	// Committer makes images of containers (docker commit); nil answers
	// commits with errdefs.ErrNotImplemented.
	Committer ImageCommitter
	// DataRoot holds containers/<id>/; ExecRoot holds the shims' state
	// (containers/<short id>/) and the runtime's root (runtime/).
	DataRoot, ExecRoot string
	// Shim is the berth-shim program.
	Shim string
	// Runtime returns the program of an OCI runtime by name;
	// DefaultRuntime is the name of the one containers get by default.
	Runtime        func(name string) (string, error)
	DefaultRuntime string
	// Spec are the daemon-wide options of spec generation (host facts,
	// default ulimits, pids limit, init binary...).
	Spec []spec.Option
	// LogOpts are the daemon's json-file options (daemon.json
	// "log-opts": max-size, max-file); containers' own override them.
	LogOpts map[string]string
	// Volumes keeps the volumes; nil leaves containers without them
	// (spec generation refuses named volumes then).
	Volumes VolumeService
	// Networks connects containers to networks (network.go); nil leaves
	// every container with its loopback only, whatever its network mode.
	Networks NetworkService
	// BridgeDisabled says there is no default bridge network (berthd
	// --bridge=none): containers in mode bridge get their loopback only,
	// as with dockerd.
	BridgeDisabled bool
	// Driver names the storage driver in inspect ("overlayfs").
	Driver string
	Logger *slog.Logger
}

// Service keeps the containers. Make it with New, then call Restore once.
type Service struct {
	o   Options
	log *slog.Logger
	// logSize and logFiles are the default log rotation.
	logSize  int64
	logFiles int

	mu     sync.RWMutex
	byID   map[string]*ctr
	names  map[string]string // name → ID, reservations included
	shorts map[string]bool   // short IDs in use
	execs  map[string]*execInst

	// ctx lives as long as the service: exit watchers and restarts run
	// on it, and end (without recording anything) at Close.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool
}

// ctr is one container in memory.
type ctr struct {
	id    string
	short string

	// op serializes the operations that change the container's state.
	op chan struct{}

	mu  sync.Mutex // guards the fields below
	rec *record
	sh  *shim.Shim
	// next ends the current (or next) run: closed at the exit, then
	// replaced.
	next *run
	// removed is closed when the container is gone.
	removed  chan struct{}
	removing bool
	// restarting is set while docker restart stops the container: its
	// exit then neither triggers the policy nor the auto-removal.
	restarting bool
	gone       bool
	// pending are attach clients waiting for the container to start.
	pending []*pendingAttach
	// restart is the timer of a pending policy restart; backoff its
	// current delay.
	restart *time.Timer
	backoff time.Duration
	// health is the running healthcheck monitor (health.go).
	health *healthMonitor
	// eps are the container's endpoints while it runs, and nameservers
	// the resolvers its networks gave it (network.go).
	eps         []netsvc.Endpoint
	nameservers []netip.Addr
	// proc is the process of config.json, for execs (exec_process.go).
	proc specProcess
}

// run is one run of a container, from the waiter's side.
type run struct {
	done     chan struct{}
	exitCode int
	err      string
}

func newRun() *run { return &run{done: make(chan struct{})} }

// lock takes the operation lock, or gives up when ctx ends.
func (c *ctr) lock(ctx context.Context) error {
	select {
	case c.op <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *ctr) unlock() { <-c.op }

// New loads the container records. Restore then reconciles them with the
// shims that outlived the previous berthd.
func New(o Options) (*Service, error) {
	if o.DB == nil || o.Images == nil || o.Blobs == nil || o.Snapshots == nil || o.Events == nil || o.Runtime == nil {
		return nil, fmt.Errorf("container service: database, images, blobs, snapshots, events and runtimes are required: %w", errdefs.ErrInvalidArgument)
	}
	if o.DataRoot == "" || o.ExecRoot == "" || o.Shim == "" {
		return nil, fmt.Errorf("container service: data root, exec root and shim are required: %w", errdefs.ErrInvalidArgument)
	}
	// The longest socket path: EXEC/containers/<short>/ then an exec's
	// console socket (12 bytes, one more than attach.sock).
	if n := len(filepath.Join(o.ExecRoot, "containers", strings.Repeat("x", shortLen), strings.Repeat("x", 12))); n >= 108 {
		return nil, fmt.Errorf("exec root %s is too long for the shims' socket paths (%d bytes, the limit is 107): %w", o.ExecRoot, n, errdefs.ErrInvalidArgument)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DefaultRuntime == "" {
		o.DefaultRuntime = "berth-runtime"
	}
	for _, d := range []string{filepath.Join(o.DataRoot, "containers"), filepath.Join(o.ExecRoot, "containers"), filepath.Join(o.ExecRoot, "runtime")} {
		if err := os.MkdirAll(d, 0o710); err != nil {
			return nil, fmt.Errorf("container service: %w", err)
		}
	}
	s := &Service{o: o, log: o.Logger, byID: map[string]*ctr{}, names: map[string]string{}, shorts: map[string]bool{}, execs: map[string]*execInst{}}
	var err error
	s.logSize, s.logFiles, err = logRotation(container.LogConfig{Config: o.LogOpts}, shim.DefaultLogMaxSize, shim.DefaultLogMaxFiles)
	if err != nil {
		return nil, fmt.Errorf("default log options: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := o.DB.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return nil, fmt.Errorf("container service: %w", err)
	}
	recs, bad, err := loadRecords(o.DB)
	if err != nil {
		return nil, err
	}
	for _, id := range bad {
		s.log.Error("container record does not decode; ignoring it", "container", id)
	}
	for _, r := range recs {
		s.add(r)
	}
	s.claimVolumes(context.Background())
	return s, nil
}

// add puts a record in the maps.
func (s *Service) add(r *record) *ctr {
	c := &ctr{id: r.ID, short: r.ID[:shortLen], op: make(chan struct{}, 1), rec: r, next: newRun(), removed: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[r.ID] = c
	s.names[r.Name] = r.ID
	s.shorts[c.short] = true
	return c
}

// forget takes a container out of the maps.
func (s *Service) forget(c *ctr, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, c.id)
	if s.names[name] == c.id {
		delete(s.names, name)
	}
	delete(s.shorts, c.short)
}

// Paths of a container.
func (s *Service) bundleDir(id string) string { return filepath.Join(s.o.DataRoot, "containers", id) }
func (s *Service) rootfs(id string) string    { return filepath.Join(s.bundleDir(id), "rootfs") }
func (s *Service) logPath(id string) string   { return filepath.Join(s.bundleDir(id), id+"-json.log") }
func (s *Service) shimDir(id string) string {
	return filepath.Join(s.o.ExecRoot, "containers", id[:shortLen])
}
func (s *Service) runtimeRoot() string { return filepath.Join(s.o.ExecRoot, "runtime") }

// notFound is dockerd's answer for a container reference that names none.
func notFound(ref string) error {
	return &classified{msg: "No such container: " + ref, class: errdefs.ErrNotFound}
}

// classified is an error whose text is exactly dockerd's, of an errdefs
// class.
type classified struct {
	msg   string
	class error
}

func (e *classified) Error() string { return e.msg }
func (e *classified) Unwrap() error { return e.class }

func errorf(class error, format string, args ...any) error {
	return &classified{msg: fmt.Sprintf(format, args...), class: class}
}

// get finds a container by full ID, name (with or without "/"), or
// unique ID prefix, in that order, as dockerd does.
func (s *Service) get(ref string) (*ctr, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ref == "" {
		return nil, notFound(ref)
	}
	if c, ok := s.byID[ref]; ok {
		return c, nil
	}
	if id, ok := s.names[strings.TrimPrefix(ref, "/")]; ok {
		if c, ok := s.byID[id]; ok {
			return c, nil
		}
	}
	if strings.Trim(ref, "0123456789abcdef") != "" {
		return nil, notFound(ref)
	}
	var found *ctr
	for id, c := range s.byID {
		if strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, errorf(errdefs.ErrInvalidArgument, "multiple IDs found with provided prefix: %s", ref)
			}
			found = c
		}
	}
	if found == nil {
		return nil, notFound(ref)
	}
	return found, nil
}

// getLocked finds a container as get does and takes its operation lock;
// the caller unlocks it.
func (s *Service) getLocked(ctx context.Context, ref string) (*ctr, error) {
	c, err := s.get(ref)
	if err != nil {
		return nil, err
	}
	if err := c.lock(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// all returns the containers, newest first.
func (s *Service) all() []*ctr {
	s.mu.RLock()
	out := make([]*ctr, 0, len(s.byID))
	for _, c := range s.byID {
		out = append(out, c)
	}
	s.mu.RUnlock()
	created := make(map[*ctr]time.Time, len(out))
	for _, c := range out {
		c.mu.Lock()
		created[c] = c.rec.Created
		c.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if !created[out[i]].Equal(created[out[j]]) {
			return created[out[i]].After(created[out[j]])
		}
		return out[i].id < out[j].id
	})
	return out
}

// save writes the container's record; the caller holds c.mu.
func (s *Service) save(c *ctr) error {
	return putRecord(s.o.DB, c.rec)
}

// publish sends a container event with the attributes dockerd gives:
// name, image and the labels, then extra.
func (s *Service) publish(c *ctr, action events.Action, extra map[string]string) {
	c.mu.Lock()
	attrs := map[string]string{"name": c.rec.Name, "image": c.rec.Config.Image}
	for k, v := range c.rec.Config.Labels {
		attrs[k] = v
	}
	c.mu.Unlock()
	for k, v := range extra {
		attrs[k] = v
	}
	s.o.Events.Publish(events.Message{Type: events.ContainerEventType, Action: action,
		Actor: events.Actor{ID: c.id, Attributes: attrs}})
}

// ContainerCounts counts the containers by state (GET /info).
func (s *Service) ContainerCounts(ctx context.Context) (total, running, paused, stopped int, err error) {
	for _, c := range s.all() {
		c.mu.Lock()
		st := c.rec.State.Status
		c.mu.Unlock()
		total++
		switch st {
		case container.StateRunning, container.StateRestarting:
			running++
		case container.StatePaused:
			paused++
		default:
			stopped++
		}
	}
	return total, running, paused, stopped, nil
}

// ImageUser is a container that uses an image.
type ImageUser struct {
	ID      string
	Running bool
}

// ContainersUsing lists the containers created from image id.
func (s *Service) ContainersUsing(ctx context.Context, id digest.Digest) ([]ImageUser, error) {
	var out []ImageUser
	for _, c := range s.all() {
		c.mu.Lock()
		if c.rec.ImageID == id {
			out = append(out, ImageUser{ID: c.id, Running: c.rec.State.running()})
		}
		c.mu.Unlock()
	}
	return out, nil
}

// Close stops the service's background work: exit watchers and pending
// restarts end without recording anything, so that the containers keep
// running under their shims for the next berthd (live restore). With
// stop, the running containers are stopped first, each with its stop
// signal and at most timeout.
func (s *Service) Close(ctx context.Context, stop bool, timeout time.Duration) error {
	var errs []error
	if stop {
		secs := int(timeout / time.Second)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, c := range s.all() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Stop(ctx, c.id, "", &secs); err != nil && !errdefs.IsNotModified(err) && !errdefs.IsNotFound(err) {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return errors.Join(errs...)
}

// isClosed reports whether Close has begun.
func (s *Service) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}
