package image

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/archive"
	"github.com/berth-dev/berth/snapshot"
)

// stagedLayer is a commit's layer being applied to a staging snapshot as
// it is written: Write feeds archive.Apply through a pipe.
type stagedLayer struct {
	s     *Service
	lease *Lease
	key   string
	pw    *io.PipeWriter
	done  chan error
	n     int64 // bytes written: the layer's uncompressed size
}

// stage prepares the staging snapshot of a commit's layer under the
// lease, on parent's top layer when the snapshotter cannot rebase at
// commit (else on nothing, as unpack does), and starts applying to it.
func (s *Service) stage(ctx context.Context, lease *Lease, parent Named) (*stagedLayer, error) {
	st := &stagedLayer{s: s, lease: lease, key: "staging-" + lease.ID + "-commit", done: make(chan error, 1)}
	if err := s.Store.AddToLease(ctx, lease, nil, []string{st.key}); err != nil {
		return nil, err
	}
	base := ""
	if chain := parent.ChainIDs(); len(chain) > 0 && !s.snap.Features().Rebase {
		base = chain[len(chain)-1].String()
	}
	mounts, err := s.snap.Prepare(ctx, st.key, base, snapshot.WithLabels(map[string]string{labelStaging: "1"}))
	if err != nil {
		return nil, fmt.Errorf("prepare snapshot %s: %w", st.key, err)
	}
	dir, err := bindSource(mounts)
	if err != nil {
		st.discard(ctx)
		return nil, err
	}
	mode := archive.Delete
	if s.snap.Features().OverlayWhiteouts {
		mode = archive.Overlay
	}
	pr, pw := io.Pipe()
	st.pw = pw
	go func() {
		_, err := archive.Apply(ctx, dir, pr, archive.ApplyOptions{Whiteouts: mode})
		pr.CloseWithError(err) // a writer still writing learns why
		st.done <- err
	}()
	return st, nil
}

func (st *stagedLayer) Write(p []byte) (int, error) {
	n, err := st.pw.Write(p)
	st.n += int64(n)
	return n, err
}

// finish ends the stream (with the writer's error, if any) and waits for
// the apply; it returns the first error of the two.
func (st *stagedLayer) finish(werr error) error {
	st.pw.CloseWithError(werr)
	aerr := <-st.done
	if werr != nil {
		return werr
	}
	if aerr != nil {
		return fmt.Errorf("apply the committed layer: %w", aerr)
	}
	return nil
}

// commit commits the staging snapshot as the top layer of the chain of
// diffIDs; a concurrent commit of the same layer may have done it first.
func (st *stagedLayer) commit(ctx context.Context, diffIDs []digest.Digest) error {
	chain := ChainIDs(diffIDs)
	top := chain[len(chain)-1].String()
	if err := st.s.Store.AddToLease(ctx, st.lease, nil, []string{top}); err != nil {
		return err
	}
	return st.s.commitLayer(ctx, chain, len(chain)-1, st.key, st.n)
}

// discard removes the staging snapshot, if it is still there. A failure
// is left to the collector, which removes staging snapshots once their
// lease is gone.
func (st *stagedLayer) discard(ctx context.Context) {
	st.s.snap.Remove(context.WithoutCancel(ctx), st.key)
}
