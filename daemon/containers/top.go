package containers

import (
	"context"
	"os/exec"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
)

// Top lists the processes of a running container as GET
// /containers/{id}/top: the host's ps(1) table (psArgs, default -ef)
// filtered to the container's processes, which the runtime's ps verb
// does.
func (s *Service) Top(ctx context.Context, ref, psArgs string) (container.TopResponse, error) {
	c, err := s.get(ref)
	if err != nil {
		return container.TopResponse{}, err
	}
	c.mu.Lock()
	running, runtimeName := c.sh != nil, c.rec.HostConfig.Runtime
	c.mu.Unlock()
	if !running {
		return container.TopResponse{}, errorf(errdefs.ErrConflict, "container %s is not running", c.id)
	}
	path, err := s.o.Runtime(runtimeName)
	if err != nil {
		return container.TopResponse{}, err
	}
	args := []string{"--root", s.runtimeRoot(), "ps", c.id}
	if psArgs != "" {
		args = append(args, strings.Fields(psArgs)...)
	}
	out, err := exec.CommandContext(ctx, path, args...).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return container.TopResponse{}, errorf(errdefs.ErrInvalidArgument, "ps: %s", msg)
	}
	resp, err := parsePS(string(out))
	if err != nil {
		return resp, err
	}
	s.publish(c, events.ActionTop, nil)
	return resp, nil
}

// parsePS splits a ps(1) table: the titles, then one row per process
// whose last column (the command) keeps its spaces.
func parsePS(out string) (container.TopResponse, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	resp := container.TopResponse{Titles: strings.Fields(lines[0]), Processes: [][]string{}}
	if len(resp.Titles) == 0 {
		return resp, errorf(errdefs.ErrInvalidArgument, "ps printed no titles")
	}
	n := len(resp.Titles)
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) > n {
			f = append(f[:n-1], strings.Join(f[n-1:], " "))
		}
		resp.Processes = append(resp.Processes, f)
	}
	return resp, nil
}
