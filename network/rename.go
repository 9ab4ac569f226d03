package network

import "context"

// Rename gives a container's endpoints its new name (docker rename), so
// the embedded DNS answers the new name and no longer the old one. The
// records are written first, each before its endpoint changes in memory.
func (s *Service) Rename(ctx context.Context, containerID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.endpointsOfLocked(func(e *Endpoint) bool { return e.ContainerID == containerID }) {
		next := *e
		next.ContainerName = name
		if err := s.putEndpoint(&next); err != nil {
			return err
		}
		*e = next
	}
	return nil
}
