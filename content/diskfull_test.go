package content

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// smallDisk mounts a 1 MiB tmpfs for the test and unmounts it afterwards.
func smallDisk(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t)
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=1m,mode=0700"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

func wantDiskFull(t *testing.T, what string, err error, name string) {
	t.Helper()
	if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, errdefs.ErrResourceExhausted) || !strings.Contains(err.Error(), name) {
		t.Errorf("%s on a full disk: got %v, want ENOSPC and ErrResourceExhausted naming %s", what, err, name)
	}
}

func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	s, err := Open(smallDisk(t))
	if err != nil {
		t.Fatal(err)
	}
	big := testData(2 << 20)
	d := descOf(big)

	// Content of unknown digest: Commit must not store the truncated part.
	w, err := s.Writer(ctx, "load-big", Descriptor{Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Write(big)
	wantDiskFull(t, "Write of unknown content", err, `ingest "load-big"`)
	_, err = w.Commit(ctx)
	wantDiskFull(t, "Commit of unknown content after a failed Write", err, `ingest "load-big"`)
	if err := s.AbortIngest(ctx, "load-big"); err != nil {
		t.Fatal(err)
	}
	if err := s.Walk(ctx, func(i Info) error { return fmt.Errorf("blob %s visible", i.Digest) }); err != nil {
		t.Errorf("Walk on a full disk: got %v, want no blob", err)
	}

	// A blob larger than the disk: Write fails, nothing becomes visible.
	w, err = s.Writer(ctx, "pull-big", d)
	if err != nil {
		t.Fatal(err)
	}
	n, err := w.Write(big)
	wantDiskFull(t, "Write", err, d.Digest.String())
	if n == 0 || int64(n) != w.Offset() {
		t.Errorf("Write on a full disk: wrote %d, offset %d, want both equal and non-zero", n, w.Offset())
	}
	_, err = w.Commit(ctx)
	wantDiskFull(t, "Commit after a failed Write", err, d.Digest.String())
	if _, err := s.Info(ctx, d.Digest); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Info after a full disk: got %v, want ErrNotFound", err)
	}

	// With the disk still full, a new ingest cannot even start; it says so
	// and leaves nothing behind.
	small := testData(64 << 10)
	_, err = s.Writer(ctx, "pull-small", descOf(small))
	wantDiskFull(t, "Writer", err, descOf(small).Digest.String())
	if ins, _ := s.Ingests(ctx); len(ins) != 1 || ins[0].Key != "pull-big" || ins[0].Offset != int64(n) {
		t.Errorf("Ingests on a full disk: got %+v, want only pull-big at %d", ins, n)
	}

	// The partial is resumable up to where the disk filled; aborting it
	// frees the space and the store works on.
	w, err = s.Writer(ctx, "pull-big", d)
	if err != nil || w.Offset() != int64(n) {
		t.Fatalf("resume on a full disk: got %v, %v, want offset %d", w, err, n)
	}
	w.Abort()
	put(t, s, small)
	if err := s.Verify(ctx, descOf(small).Digest); err != nil {
		t.Error(err)
	}
	var blobs int
	s.Walk(ctx, func(Info) error { blobs++; return nil })
	entries, _ := os.ReadDir(s.ingestRoot())
	if blobs != 1 || len(entries) != 0 {
		t.Errorf("store after a full disk: got %d blobs and ingests %v, want 1 blob and no ingest", blobs, entries)
	}
}
