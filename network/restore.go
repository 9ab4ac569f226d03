package network

import (
	"context"
	"strings"
)

// Restore, at berthd's start, keeps the endpoints of the running
// containers (their host ports held again) and removes every other
// endpoint: its record (the lease), its veth; veths on berth's bridges
// that no endpoint names go too. The rules are then made again from the
// records.
func (s *Service) Restore(ctx context.Context, running map[string]string) error {
	s.mu.Lock()
	var dead, kept []Endpoint
	for _, e := range s.endpointsOfLocked(func(*Endpoint) bool { return true }) {
		if _, ok := running[e.ContainerID]; ok {
			kept = append(kept, *e)
		} else {
			dead = append(dead, *e)
		}
	}
	for id, path := range running {
		s.nsPaths[id] = path
	}
	bridges := map[string]bool{}
	for _, n := range s.networks {
		if n.Driver == "bridge" {
			bridges[n.Bridge] = true
		}
	}
	s.mu.Unlock()
	for _, e := range dead {
		if err := s.leave(ctx, e.ContainerID, []Endpoint{e}); err != nil {
			s.logger(ctx).Warn("restore: remove endpoint of a dead container", "container", e.ContainerID, "err", err)
		}
	}
	keep := map[string]bool{}
	for _, e := range kept {
		keep[e.HostIf] = true
		s.rehold(ctx, e)
	}
	for br := range bridges {
		ports, err := s.drv.Ports(br)
		if err != nil {
			s.logger(ctx).Warn("restore: list bridge ports", "bridge", br, "err", err)
			continue
		}
		for _, p := range ports {
			if strings.HasPrefix(p, "veth") && !keep[p] {
				if err := s.drv.RemoveEndpoint(p); err != nil {
					s.logger(ctx).Warn("restore: remove stray veth", "link", p, "err", err)
				}
			}
		}
	}
	return s.applyRules()
}

// rehold reserves a kept endpoint's host ports again (berthd's sockets
// went with its last run).
func (s *Service) rehold(ctx context.Context, e Endpoint) {
	if s.o.Reserve == nil {
		return
	}
	for _, p := range e.Ports {
		b := p.PortBinding
		var r Reservation
		err := s.inNS(func() (err error) { r, err = s.o.Reserve(b); return err })
		if err != nil {
			s.logger(ctx).Warn("restore: hold published port", "container", e.ContainerID, "port", b.HostPort, "err", err)
			continue
		}
		s.mu.Lock()
		s.resv[e.ID] = append(s.resv[e.ID], r)
		s.mu.Unlock()
	}
}
