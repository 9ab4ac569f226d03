package network

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
)

// errorf returns an error of class (an errdefs error) whose message is
// exactly the formatted text, as dockerd words it.
func errorf(class error, format string, args ...any) error {
	return &classed{msg: fmt.Sprintf(format, args...), class: class}
}

type classed struct {
	msg   string
	class error
}

func (e *classed) Error() string { return e.msg }
func (e *classed) Unwrap() error { return e.class }

// findLocked resolves a network reference as dockerd does: the full ID,
// then the exact name, then a unique ID prefix.
func (s *Service) findLocked(ref string) (*Network, error) {
	if ref == "" {
		return nil, errorf(errdefs.ErrNotFound, "network %s not found", ref)
	}
	if n := s.networks[ref]; n != nil {
		return n, nil
	}
	for _, n := range s.networks {
		if n.Name == ref {
			return n, nil
		}
	}
	var match *Network
	count := 0
	for _, n := range s.networks {
		if strings.HasPrefix(n.ID, ref) {
			match = n
			count++
		}
	}
	switch count {
	case 0:
		return nil, errorf(errdefs.ErrNotFound, "network %s not found", ref)
	case 1:
		return match, nil
	}
	return nil, errorf(errdefs.ErrInvalidArgument, "network %s is ambiguous (%d matches found based on ID prefix)", ref, count)
}

// find is findLocked under the lock, returning a copy.
func (s *Service) find(ref string) (Network, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.findLocked(ref)
	if err != nil {
		return Network{}, err
	}
	return *n, nil
}
