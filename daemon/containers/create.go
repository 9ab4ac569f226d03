package containers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/berth-dev/berth/daemon/spec"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/mount"
	"github.com/berth-dev/berth/snapshot"
)

// maxConfigBlob bounds an image config read at create.
const maxConfigBlob = 8 << 20

// labelContainer marks a container's snapshot, so that Restore can find
// snapshots whose container record is gone.
const labelContainer = "berth.container"

// Create creates a container named name ("" for a generated name) from
// req, as POST /containers/create. The image must be in the store.
func (s *Service) Create(ctx context.Context, name string, req container.CreateRequest) (_ container.CreateResponse, err error) {
	if req.Config == nil {
		return container.CreateResponse{}, errorf(errdefs.ErrInvalidArgument, "config cannot be empty in order to create a container")
	}
	if req.Config.Image == "" {
		return container.CreateResponse{}, errorf(errdefs.ErrInvalidArgument, "no image specified")
	}
	if err := checkHealth(req.Config); err != nil {
		return container.CreateResponse{}, err
	}
	hc := &container.HostConfig{}
	if req.HostConfig != nil {
		*hc = *req.HostConfig
	}
	if err := s.checkHostConfig(hc); err != nil {
		return container.CreateResponse{}, err
	}
	img, imgCfg, err := s.image(ctx, req.Config.Image)
	if err != nil {
		return container.CreateResponse{}, err
	}
	nets, netWarnings, err := s.planNetworks(ctx, req, hc, imgCfg)
	if err != nil {
		return container.CreateResponse{}, err
	}
	id, name, err := s.reserve(name)
	if err != nil {
		return container.CreateResponse{}, err
	}
	defer func() {
		if err != nil {
			s.release(id, name)
		}
	}()
	rec, warnings, err := s.build(ctx, id, name, req.Config, hc, img, imgCfg, nets)
	if err != nil {
		return container.CreateResponse{}, err
	}
	c := s.add(rec)
	s.publish(c, events.ActionCreate, nil)
	warnings = append(append([]string{}, warnings...), netWarnings...)
	return container.CreateResponse{ID: id, Warnings: warnings}, nil
}

// checkHostConfig validates and fills in what Create needs of the host
// configuration before any work.
func (s *Service) checkHostConfig(hc *container.HostConfig) error {
	if err := checkRestartPolicy(hc); err != nil {
		return err
	}
	if hc.NetworkMode == "" || hc.NetworkMode == "default" {
		hc.NetworkMode = "bridge"
	}
	nm := hc.NetworkMode
	switch {
	case nm.IsHost(), nm.IsNone(), nm.IsBridge():
	case nm.IsContainer():
		// Joined at start (namespaces.go).
	case s.o.Networks != nil:
		// A user network: planNetworks checks that it exists.
	default:
		return errorf(errdefs.ErrNotFound, "network %s not found", nm.NetworkName())
	}
	// The docker CLI sends PidsLimit 0 when --pids-limit is not given
	// (-1 asks for no limit): 0 gets berth's default limit.
	if hc.PidsLimit != nil && *hc.PidsLimit == 0 {
		hc.PidsLimit = nil
	}
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = "json-file"
	}
	if hc.LogConfig.Config == nil {
		hc.LogConfig.Config = map[string]string{}
	}
	if _, _, err := logRotation(hc.LogConfig, s.logSize, s.logFiles); err != nil {
		return err
	}
	if hc.Runtime == "" {
		hc.Runtime = s.o.DefaultRuntime
	}
	if _, err := s.o.Runtime(hc.Runtime); err != nil {
		return errorf(errdefs.ErrInvalidArgument, "unknown or invalid runtime name: %s", hc.Runtime)
	}
	return nil
}

// image finds the image of a create request and reads its config.
func (s *Service) image(ctx context.Context, ref string) (image.Named, *dockerspec.DockerOCIImage, error) {
	img, err := s.o.Images.Get(ctx, ref)
	if errdefs.IsNotFound(err) {
		return img, nil, errorf(errdefs.ErrNotFound, "No such image: %s", ref)
	}
	if err != nil {
		return img, nil, err
	}
	r, err := s.o.Blobs.ReaderAt(ctx, img.Config.Digest)
	if err != nil {
		return img, nil, fmt.Errorf("image %s: config: %w", ref, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxConfigBlob+1))
	if err != nil {
		return img, nil, fmt.Errorf("image %s: read config: %w", ref, err)
	}
	if len(data) > maxConfigBlob {
		return img, nil, fmt.Errorf("image %s: config is larger than %d bytes: %w", ref, maxConfigBlob, errdefs.ErrInvalidArgument)
	}
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(data, &cfg); err != nil {
		return img, nil, fmt.Errorf("image %s: decode config: %w: %w", ref, err, errdefs.ErrDataLoss)
	}
	return img, &cfg, nil
}

// reserve picks the ID and reserves the name (generated when empty), as
// dockerd refuses a name in use.
func (s *Service) reserve(name string) (id, n string, err error) {
	if name != "" {
		if n, err = checkName(name); err != nil {
			return "", "", err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", "", errorf(errdefs.ErrUnavailable, "berthd is shutting down")
	}
	if id, err = newID(func(short string) bool { return s.shorts[short] }); err != nil {
		return "", "", err
	}
	if n == "" {
		if n, err = randomName(func(x string) bool { _, ok := s.names[x]; return ok }); err != nil {
			return "", "", err
		}
	}
	if other, ok := s.names[n]; ok {
		return "", "", errorf(errdefs.ErrConflict, "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", n, other)
	}
	s.names[n] = id
	s.shorts[id[:shortLen]] = true
	return id, n, nil
}

// release undoes reserve.
func (s *Service) release(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names[name] == id {
		delete(s.names, name)
	}
	delete(s.shorts, id[:shortLen])
}

// build makes everything a container is on disk and records it: the
// bundle directory and its files, the snapshot, config.json, the record.
// On failure nothing is left.
func (s *Service) build(ctx context.Context, id, name string, cfg *container.Config, hc *container.HostConfig,
	img image.Named, imgCfg *dockerspec.DockerOCIImage, nets map[string]*network.EndpointSettings) (_ *record, warnings []string, err error) {
	undoCtx := context.WithoutCancel(ctx)
	dir := s.bundleDir(id)
	if err := os.Mkdir(dir, 0o710); err != nil {
		return nil, nil, fmt.Errorf("create container %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	rootfs := s.rootfs(id)
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create container %s: %w", id, err)
	}
	// --volumes-from mounts what other containers mount; the record
	// keeps the request as it came.
	genHC, err := s.volumesFrom(hc)
	if err != nil {
		return nil, nil, err
	}
	vols := &volumeUse{s: s, ctx: ctx, id: id}
	defer func() {
		if err != nil {
			vols.undo()
		}
	}()
	parent := ""
	if chain := img.ChainIDs(); len(chain) > 0 {
		parent = chain[len(chain)-1].String()
	}
	mounts, err := s.o.Snapshots.Prepare(ctx, id, parent, snapshot.WithLabels(map[string]string{labelContainer: id}))
	if err != nil {
		return nil, nil, fmt.Errorf("create container %s: prepare its layer: %w", id, err)
	}
	defer func() {
		if err != nil {
			if rerr := s.o.Snapshots.Remove(undoCtx, id); rerr != nil {
				s.log.Warn("remove the layer of a container that failed to create", "container", id, "error", rerr)
			}
		}
	}()
	// The rootfs is mounted only while the spec reads its /etc/passwd
	// and /etc/group; start mounts it again.
	if err := mount.All(mounts, rootfs); err != nil {
		return nil, nil, fmt.Errorf("create container %s: %w", id, err)
	}
	res, genErr := s.generate(id, cfg, genHC, &imgCfg.Config, vols.options()...)
	if err := mount.UnmountAll(rootfs); err != nil {
		return nil, nil, errors.Join(genErr, fmt.Errorf("create container %s: %w", id, err))
	}
	if genErr != nil {
		return nil, nil, genErr
	}
	vols.finish(res.Spec.Mounts, hc)
	res.HostConfig.Binds, res.HostConfig.Mounts = hc.Binds, hc.Mounts
	if err := writeNetFiles(s.netFilePaths(id), res.Config, s.withHostGateway(ctx, res.HostConfig)); err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(res.Spec)
	if err != nil {
		return nil, nil, fmt.Errorf("encode the spec of container %s: %w", id, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		return nil, nil, err
	}
	args := append(append([]string{}, res.Config.Entrypoint...), res.Config.Cmd...)
	rec := &record{
		ID: id, Name: name, Created: time.Now().UTC(), ImageID: img.ID,
		Config: res.Config, HostConfig: res.HostConfig, Path: args[0], Args: args[1:],
		StopSignal: res.Config.StopSignal, HostDirs: res.HostDirs, Volumes: vols.mount,
		State: state{Status: container.StateCreated}, Platform: "linux", Driver: s.o.Driver, Networks: nets,
	}
	if err := putRecord(s.o.DB, rec); err != nil {
		return nil, nil, err
	}
	return rec, res.Warnings, nil
}

// generate runs spec generation for a container whose rootfs is mounted.
func (s *Service) generate(id string, cfg *container.Config, hc *container.HostConfig, img *dockerspec.DockerOCIImageConfig, extra ...spec.Option) (*spec.Result, error) {
	f := s.netFilePaths(id)
	in := spec.Input{
		ID: id, Config: cfg, HostConfig: hc, Image: &img.ImageConfig, Rootfs: s.rootfs(id),
		Files: spec.Files{Hosts: f.Hosts, Hostname: f.Hostname, ResolvConf: f.ResolvConf},
	}
	in.Namespaces, in.ShmPath = s.namespaceInput(id, hc)
	res, err := spec.Generate(in, append(slices.Clone(s.o.Spec), extra...)...)
	if err != nil {
		return nil, err
	}
	res.Config.Healthcheck = mergeHealthcheck(res.Config.Healthcheck, img.Healthcheck)
	return res, nil
}
