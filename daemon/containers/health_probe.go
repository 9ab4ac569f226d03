package containers

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
)

// maxProbeOutput is how much of a probe's output a result keeps, as
// dockerd ("..." marks a cut).
const maxProbeOutput = 4096

// probe runs a healthcheck test once, as an exec through the exec service
// (so it gets the exec events dockerd emits for it too), and returns its
// result; nil when ctx ended first (the monitor was stopped). The timeout
// counts from the moment the process runs; when it passes, the probe is
// killed (ExecStart kills the process when its context ends).
func (s *Service) probe(ctx context.Context, c *ctr, cmd []string, timeout time.Duration) *container.HealthcheckResult {
	res := &container.HealthcheckResult{Start: time.Now(), ExitCode: -1}
	fail := func(msg string) *container.HealthcheckResult {
		res.Output, res.End = msg, time.Now()
		return res
	}
	id, err := s.ExecCreate(ctx, c.id, container.ExecCreateRequest{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return fail(err.Error())
	}
	defer s.dropExec(id)
	out := &probeOutput{}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.ExecStart(pctx, id, ExecStartOptions{}, func(bool) (AttachStreams, error) {
			return AttachStreams{Out: out}, nil
		})
	}()
	abort := func() { cancel(); <-done }
	finished, execErr, err := s.waitProbeStart(ctx, c.id, id, done)
	switch {
	case ctx.Err() != nil:
		abort()
		return nil
	case err != nil:
		abort()
		return fail(err.Error())
	}
	if !finished {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case execErr = <-done:
		case <-t.C:
			abort()
			msg := fmt.Sprintf("Health check exceeded timeout (%v)", timeout)
			if o := out.String(); o != "" {
				msg += ": " + o // what the probe said before it hung
			}
			return fail(msg)
		case <-ctx.Done():
			abort()
			return nil
		}
	}
	if execErr != nil {
		return fail(execErr.Error())
	}
	in, err := s.ExecInspect(ctx, id)
	if err != nil || in.ExitCode == nil {
		return fail(fmt.Sprintf("healthcheck for container %s has no exit code", c.id))
	}
	res.ExitCode, res.Output, res.End = *in.ExitCode, out.String(), time.Now()
	return res
}

// waitProbeStart waits until the probe's process runs (or already ended:
// then finished, with ExecStart's error), at most probeStartTimeout.
func (s *Service) waitProbeStart(ctx context.Context, ctrID, id string, done <-chan error) (finished bool, execErr, err error) {
	deadline := time.NewTimer(probeStartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case execErr = <-done:
			return true, execErr, nil
		case <-deadline.C:
			return false, nil, fmt.Errorf("timed out starting health check for container %s", ctrID)
		case <-ctx.Done():
			return false, nil, ctx.Err()
		case <-tick.C:
			if in, err := s.ExecInspect(ctx, id); err == nil && (in.Running || in.ExitCode != nil) {
				return false, nil, nil
			}
		}
	}
}

// dropExec forgets a probe's exec once its result is read: probes would
// otherwise fill inspect's ExecIDs until the execs expire.
func (s *Service) dropExec(id string) {
	s.mu.Lock()
	e := s.execs[id]
	delete(s.execs, id)
	s.mu.Unlock()
	if e != nil {
		e.removeFiles() // its record in the shim's state too
	}
}

// probeOutput collects a probe's stdout and stderr from the exec's
// multiplexed stream (8-byte frame headers, as without a terminal), up
// to maxProbeOutput bytes.
type probeOutput struct {
	mu        sync.Mutex
	hdr       [8]byte
	nhdr      int // header bytes read of the current frame
	left      int // payload bytes left in the current frame
	buf       bytes.Buffer
	truncated bool
}

func (p *probeOutput) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		if p.left == 0 {
			k := copy(p.hdr[p.nhdr:], b)
			p.nhdr += k
			b = b[k:]
			if p.nhdr < len(p.hdr) {
				break
			}
			p.nhdr = 0
			p.left = int(binary.BigEndian.Uint32(p.hdr[4:]))
			continue
		}
		k := min(p.left, len(b))
		p.keep(b[:k])
		p.left -= k
		b = b[k:]
	}
	return n, nil
}

func (p *probeOutput) keep(data []byte) {
	if room := maxProbeOutput - p.buf.Len(); len(data) > room {
		data = data[:max(room, 0)]
		p.truncated = true
	}
	p.buf.Write(data)
}

// String is the output kept, "..." appended when some was cut.
func (p *probeOutput) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.truncated {
		return p.buf.String() + "..."
	}
	return p.buf.String()
}
