package containers

import (
	"context"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/storage"

	"github.com/berth-dev/berth/daemon/spec"
)

// Inspect describes a container as GET /containers/{id}/json; with size,
// the size of its layer and of its whole root filesystem.
func (s *Service) Inspect(ctx context.Context, ref string, size bool) (container.InspectResponse, error) {
	c, err := s.get(ref)
	if err != nil {
		return container.InspectResponse{}, err
	}
	c.mu.Lock()
	r := c.rec
	st := r.State
	cfg := *r.Config
	hc := *r.HostConfig
	resp := container.InspectResponse{
		ID: r.ID, Created: r.Created.Format(time.RFC3339Nano), Path: r.Path, Args: append([]string{}, r.Args...),
		State: &container.State{
			Status: st.Status, Running: st.running(), Paused: st.Status == container.StatePaused,
			Restarting: st.Status == container.StateRestarting, OOMKilled: st.OOMKilled, Dead: st.Status == container.StateDead,
			Pid: st.Pid, ExitCode: st.ExitCode, Error: st.Error,
			StartedAt: st.StartedAt.UTC().Format(time.RFC3339Nano), FinishedAt: st.FinishedAt.UTC().Format(time.RFC3339Nano),
		},
		Image: r.ImageID.String(), Name: "/" + r.Name, RestartCount: r.Restarts, Driver: r.Driver, Platform: r.Platform,
		HostConfig: &hc, Config: &cfg, Mounts: containerMounts(r),
		NetworkSettings: s.netSettings(c),
	}
	resp.State.Health = copyHealth(r.Health)
	c.mu.Unlock()
	files := s.netFilePaths(r.ID)
	resp.ResolvConfPath, resp.HostnamePath, resp.HostsPath = files.ResolvConf, files.Hostname, files.Hosts
	resp.LogPath = s.logPath(r.ID)
	resp.ExecIDs = s.execIDs(c)
	resp.GraphDriver = &storage.DriverData{Name: r.Driver, Data: s.layerDirs(ctx, r.ID)}
	if size {
		var rw, rootfs int64
		if u, err := s.o.Snapshots.Usage(ctx, r.ID); err == nil {
			rw, rootfs = u.Size, u.Size
		}
		if img, err := s.o.Images.Get(ctx, r.ImageID.String()); err == nil {
			rootfs += img.Size
		}
		resp.SizeRw, resp.SizeRootFs = &rw, &rootfs
	}
	return resp, nil
}

// layerDirs are the overlay directories of a container's layer, as
// inspect's GraphDriver.Data shows them.
func (s *Service) layerDirs(ctx context.Context, id string) map[string]string {
	out := map[string]string{"MergedDir": s.rootfs(id)}
	ms, err := s.o.Snapshots.Mounts(ctx, id)
	if err != nil {
		return out
	}
	for _, m := range ms {
		for _, o := range m.Options {
			k, v, ok := strings.Cut(o, "=")
			if !ok {
				continue
			}
			switch k {
			case "lowerdir":
				out["LowerDir"] = v
			case "upperdir":
				out["UpperDir"] = v
			case "workdir":
				out["WorkDir"] = v
			}
		}
		if m.Type == "bind" {
			out["UpperDir"] = m.Source
		}
	}
	return out
}

// mountPoints lists a container's binds and mounts as inspect and docker
// ps show them.
func mountPoints(hc *container.HostConfig) []container.MountPoint {
	out := []container.MountPoint{}
	for _, raw := range hc.Binds {
		b, err := spec.ParseBind(raw)
		if err != nil {
			continue
		}
		mp := container.MountPoint{Destination: b.Destination, RW: !b.ReadOnly, Propagation: b.Propagation}
		_, _, mode := splitBindMode(raw)
		mp.Mode = mode
		if b.Volume {
			mp.Type, mp.Name, mp.Driver = mount.TypeVolume, b.Source, "local"
		} else {
			mp.Type, mp.Source = mount.TypeBind, b.Source
			if mp.Propagation == "" {
				mp.Propagation = mount.PropagationRPrivate
			}
		}
		out = append(out, mp)
	}
	for _, m := range hc.Mounts {
		mp := container.MountPoint{Type: m.Type, Source: m.Source, Destination: m.Target, RW: !m.ReadOnly}
		switch m.Type {
		case mount.TypeBind:
			mp.Propagation = mount.PropagationRPrivate
			if m.BindOptions != nil && m.BindOptions.Propagation != "" {
				mp.Propagation = m.BindOptions.Propagation
			}
		case mount.TypeVolume:
			mp.Name, mp.Source, mp.Driver = m.Source, "", "local"
		}
		out = append(out, mp)
	}
	return out
}

// splitBindMode returns the parts of a -v entry and its mode ("" when
// none).
func splitBindMode(raw string) (src, dst, mode string) {
	parts := strings.SplitN(raw, ":", 3)
	switch len(parts) {
	case 3:
		return parts[0], parts[1], parts[2]
	case 2:
		return parts[0], parts[1], ""
	}
	return "", parts[0], ""
}
