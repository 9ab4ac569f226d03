package containers

import (
	"context"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// WaitResult is how a waited-for container ended.
type WaitResult struct {
	StatusCode int
	Error      string // the run's error (its shim lost), if any
}

// Wait registers a waiter for condition (not-running, the default;
// next-exit; removed) and returns at once; the channel delivers the
// result once the condition holds, and is closed without one if ctx ends
// first. Registering before answering lets POST /containers/{id}/wait send
// its headers only once the waiter is in place, which the docker CLI
// relies on when it waits before it starts a container.
func (s *Service) Wait(ctx context.Context, ref string, cond container.WaitCondition) (<-chan WaitResult, error) {
	c, err := s.get(ref)
	if err != nil {
		return nil, err
	}
	switch cond {
	case "", container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
	default:
		return nil, errorf(errdefs.ErrInvalidArgument, "invalid condition: %q", cond)
	}
	c.mu.Lock()
	r, st, gone := c.next, c.rec.State, c.gone
	c.mu.Unlock()
	out := make(chan WaitResult, 1)
	immediate := func() (<-chan WaitResult, error) {
		out <- WaitResult{StatusCode: st.ExitCode}
		close(out)
		return out, nil
	}
	switch {
	case cond == container.WaitConditionRemoved && gone:
		return immediate()
	case (cond == "" || cond == container.WaitConditionNotRunning) && !st.running():
		return immediate()
	}
	go func() {
		defer close(out)
		if cond == container.WaitConditionRemoved {
			select {
			case <-c.removed:
				out <- WaitResult{StatusCode: c.state().ExitCode}
			case <-ctx.Done():
			}
			return
		}
		for {
			select {
			case <-r.done:
			case <-c.removed:
				out <- WaitResult{StatusCode: c.state().ExitCode}
				return
			case <-ctx.Done():
				return
			}
			// not-running waits through policy restarts, as dockerd does
			// for a container that is "restarting".
			c.mu.Lock()
			next, restarting := c.next, c.rec.State.Status == container.StateRestarting || c.sh != nil
			c.mu.Unlock()
			if cond == container.WaitConditionNextExit || !restarting {
				out <- WaitResult{StatusCode: r.exitCode, Error: r.err}
				return
			}
			r = next
		}
	}()
	return out, nil
}
