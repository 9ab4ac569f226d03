package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/archive"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/image/exchange"
)

// CommitOptions say how Commit makes an image, as POST /commit's query
// and body do.
type CommitOptions struct {
	Ref             string // REPO[:TAG]; empty: no name
	Author, Comment string
	// Changes are Dockerfile instructions (CMD, ENV, ...) applied to
	// Config before it is merged with the container's.
	Changes []string
	// Pause freezes the container while its layer is read.
	Pause bool
	// Config is the body's config; nil: none.
	Config *container.Config
}

// Commit makes an image of a container's changes, as `docker commit`:
// the overlay upper directory as a new layer on the container's image
// (less the mount points the runtime made there), and a config that is
// Config with Changes applied, merged with the container's as dockerd
// merges them. It returns the image ID.
func (s *Service) Commit(ctx context.Context, ref string, o CommitOptions) (digest.Digest, error) {
	if s.o.Committer == nil {
		return "", errorf(errdefs.ErrNotImplemented, "commit is not supported by this daemon")
	}
	c, err := s.getLocked(ctx, ref)
	if err != nil {
		return "", err
	}
	defer c.unlock()
	c.mu.Lock()
	ctrCfg, imageID := c.rec.Config, c.rec.ImageID
	running := c.rec.State.Status == container.StateRunning && c.sh != nil
	c.mu.Unlock()

	cfg, err := commitConfig(o.Config, o.Changes, ctrCfg)
	if err != nil {
		return "", err
	}
	upper, _, err := s.layerPaths(ctx, c.id)
	if err != nil {
		return "", err
	}
	// The mount points the runtime made in the upper directory are not
	// the container's changes: every mount of its spec, binds, volumes
	// and tmpfs included.
	sp, err := s.readSpec(c.id)
	if err != nil {
		return "", err
	}
	skip := map[string]bool{}
	for p := range runtimePaths {
		skip[strings.TrimPrefix(p, "/")] = true
	}
	for _, m := range sp.Mounts {
		skip[strings.TrimPrefix(path.Clean("/"+m.Destination), "/")] = true
	}
	if o.Pause && running {
		if err := s.runtimeRun(ctx, c, "pause"); err != nil {
			return "", err
		}
		defer func() {
			if err := s.runtimeRun(context.WithoutCancel(ctx), c, "resume"); err != nil {
				s.log.Warn("resume after commit", "container", c.id, "error", err)
			}
		}()
	}
	img, err := s.o.Committer.Commit(ctx, image.CommitOptions{
		Parent: imageID, Config: cfg, Author: o.Author, Comment: o.Comment,
		CreatedBy: strings.Join(ctrCfg.Cmd, " "), Ref: o.Ref,
		Layer: func(ctx context.Context, w io.Writer) error {
			return archive.DiffWith(ctx, w, upper, archive.DiffOptions{Exclude: func(n string) bool { return skip[n] }})
		},
	})
	if err != nil {
		return "", err
	}
	imageRef := ""
	if len(img.Names) > 0 && o.Ref != "" {
		imageRef = img.Names[0]
	}
	s.publish(c, events.ActionCommit, map[string]string{"comment": o.Comment, "imageID": img.ID.String(), "imageRef": imageRef})
	return img.ID, nil
}

// commitConfig is the new image's config: the request's config with the
// changes applied, then what it leaves unset taken from the container's
// config (dockerd's merge).
func commitConfig(req *container.Config, changes []string, ctr *container.Config) (dockerspec.DockerOCIImageConfig, error) {
	user, err := imageConfigOf(req)
	if err != nil {
		return user, err
	}
	if err := exchange.ApplyChanges(&user.ImageConfig, changes); err != nil {
		return user, err
	}
	base, err := imageConfigOf(ctr)
	if err != nil {
		return user, err
	}
	mergeImageConfig(&user, &base)
	return user, nil
}

// imageConfigOf takes the image fields of a container config; their JSON
// names are the image config's.
func imageConfigOf(c *container.Config) (dockerspec.DockerOCIImageConfig, error) {
	var out dockerspec.DockerOCIImageConfig
	if c == nil {
		return out, nil
	}
	data, err := json.Marshal(c)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("commit config: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return out, nil
}

// mergeImageConfig fills what user leaves unset from base, as dockerd's
// commit does: ports, env (by name), labels and volumes are unions, user
// wins; Cmd and Entrypoint come from base only when user sets neither.
func mergeImageConfig(user, base *dockerspec.DockerOCIImageConfig) {
	if user.User == "" {
		user.User = base.User
	}
	for p, v := range base.ExposedPorts {
		if user.ExposedPorts == nil {
			user.ExposedPorts = map[string]struct{}{}
		}
		if _, ok := user.ExposedPorts[p]; !ok {
			user.ExposedPorts[p] = v
		}
	}
	have := map[string]bool{}
	for _, e := range user.Env {
		k, _, _ := strings.Cut(e, "=")
		have[k] = true
	}
	for _, e := range base.Env {
		if k, _, _ := strings.Cut(e, "="); !have[k] {
			user.Env = append(user.Env, e)
		}
	}
	for k, v := range base.Labels {
		if user.Labels == nil {
			user.Labels = map[string]string{}
		}
		if _, ok := user.Labels[k]; !ok {
			user.Labels[k] = v
		}
	}
	if len(user.Entrypoint) == 0 {
		if len(user.Cmd) == 0 {
			user.Cmd = base.Cmd
		}
		if user.Entrypoint == nil {
			user.Entrypoint = base.Entrypoint
		}
	}
	if user.Healthcheck == nil {
		user.Healthcheck = base.Healthcheck
	}
	if user.WorkingDir == "" {
		user.WorkingDir = base.WorkingDir
	}
	for k, v := range base.Volumes {
		if user.Volumes == nil {
			user.Volumes = map[string]struct{}{}
		}
		if _, ok := user.Volumes[k]; !ok {
			user.Volumes[k] = v
		}
	}
	if user.StopSignal == "" {
		user.StopSignal = base.StopSignal
	}
	if len(user.Shell) == 0 {
		user.Shell = base.Shell
	}
	if len(user.OnBuild) == 0 {
		user.OnBuild = base.OnBuild
	}
}
