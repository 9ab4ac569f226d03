package spec

import (
	"maps"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MergeImage returns the request's configuration completed with the
// image's, as Docker stores it at create (and inspect shows it):
//
//   - User, WorkingDir and StopSignal come from the image when unset.
//   - Env is the request's followed by the image's variables it does not set.
//   - With no Entrypoint in the request, an empty Cmd takes the image's and a
//     nil Entrypoint the image's. Any Entrypoint given drops the image's Cmd,
//     and Entrypoint [""] (--entrypoint "") then resets to none.
//   - Labels, ExposedPorts and Volumes are the union, the request winning.
//
// Neither argument is modified.
func MergeImage(req *container.Config, img *ocispec.ImageConfig) (*container.Config, error) {
	c := &container.Config{}
	if req != nil {
		*c = *req
	}
	c.Env = slices.Clone(c.Env)
	c.Cmd = slices.Clone(c.Cmd)
	c.Entrypoint = slices.Clone(c.Entrypoint)
	c.Labels = maps.Clone(c.Labels)
	c.Volumes = maps.Clone(c.Volumes)
	c.ExposedPorts = maps.Clone(c.ExposedPorts)
	if img != nil {
		if err := mergeImage(c, img); err != nil {
			return nil, err
		}
	}
	if len(c.Entrypoint) == 1 && c.Entrypoint[0] == "" {
		c.Entrypoint = nil
	}
	return c, nil
}

func mergeImage(c *container.Config, img *ocispec.ImageConfig) error {
	if c.User == "" {
		c.User = img.User
	}
	if c.WorkingDir == "" {
		c.WorkingDir = img.WorkingDir
	}
	if c.StopSignal == "" {
		c.StopSignal = img.StopSignal
	}
	set := map[string]bool{}
	for _, e := range c.Env {
		set[envKey(e)] = true
	}
	for _, e := range img.Env {
		if !set[envKey(e)] {
			c.Env = append(c.Env, e)
		}
	}
	if len(c.Entrypoint) == 0 {
		if len(c.Cmd) == 0 {
			c.Cmd = slices.Clone(img.Cmd)
		}
		if c.Entrypoint == nil {
			c.Entrypoint = slices.Clone(img.Entrypoint)
		}
	}
	for k, v := range img.Labels {
		if _, ok := c.Labels[k]; !ok {
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			c.Labels[k] = v
		}
	}
	for k := range img.Volumes {
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		c.Volumes[k] = struct{}{}
	}
	for k := range img.ExposedPorts {
		p, err := network.ParsePort(k)
		if err != nil {
			return invalidWrap(err, "invalid exposed port %q in image config: %v", k, err)
		}
		if c.ExposedPorts == nil {
			c.ExposedPorts = network.PortSet{}
		}
		c.ExposedPorts[p] = struct{}{}
	}
	return nil
}

func envKey(e string) string {
	k, _, _ := strings.Cut(e, "=")
	return k
}
