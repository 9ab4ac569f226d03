package content

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// testData returns n reproducible bytes, the same in every process.
func testData(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{'b', 'e', 'r', 't', 'h'}).Read(b)
	return b
}

func descOf(b []byte) Descriptor { return Descriptor{Digest: digest.FromBytes(b), Size: int64(len(b))} }

// put stores b under its digest and returns it.
func put(t *testing.T, s *Store, b []byte) digest.Digest {
	t.Helper()
	d := descOf(b)
	w, err := s.Writer(context.Background(), "put-"+d.Digest.String(), d)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return d.Digest
}

func TestOpenLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "content")
	if _, err := Open(root); err != nil {
		t.Fatalf("Open: %v", err)
	}
	for _, dir := range []string{"blobs/sha256", "ingest"} {
		if fi, err := os.Stat(filepath.Join(root, dir)); err != nil || !fi.IsDir() {
			t.Errorf("%s: got %v, want a directory", dir, err)
		}
	}
	if _, err := Open(""); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("Open(\"\"): got %v, want ErrInvalidArgument", err)
	}
}

func TestBlobLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := testData(3000)
	d := put(t, s, data)

	info, err := s.Info(ctx, d)
	if err != nil || info.Digest != d || info.Size != 3000 || info.ModTime.IsZero() {
		t.Fatalf("Info: got %+v, %v, want %s of 3000 bytes", info, err, d)
	}
	p, err := s.Path(d)
	if err != nil || p != filepath.Join(s.Root(), "blobs", "sha256", d.Encoded()) {
		t.Fatalf("Path: got %q, %v", p, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o444 {
		t.Errorf("blob mode: got %v, want 0444", fi.Mode().Perm())
	}

	r, err := s.ReaderAt(ctx, d)
	if err != nil {
		t.Fatalf("ReaderAt: %v", err)
	}
	defer r.Close()
	if r.Size() != 3000 {
		t.Errorf("Size: got %d, want 3000", r.Size())
	}
	got := make([]byte, 10)
	if _, err := r.ReadAt(got, 1000); err != nil || !bytes.Equal(got, data[1000:1010]) {
		t.Errorf("ReadAt(1000): got %x, %v, want %x", got, err, data[1000:1010])
	}
	all, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(all, data) {
		t.Errorf("Read: got %d bytes, %v, want the blob", len(all), err)
	}

	if err := s.Delete(ctx, d); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := r.ReadAt(got, 0); err != nil {
		t.Errorf("ReadAt after Delete: got %v, want the open blob still readable", err)
	}
	for name, err := range map[string]error{
		"Info":   func() error { _, err := s.Info(ctx, d); return err }(),
		"Path":   func() error { _, err := s.Path(d); return err }(),
		"Reader": func() error { _, err := s.ReaderAt(ctx, d); return err }(),
		"Delete": s.Delete(ctx, d),
		"Verify": s.Verify(ctx, d),
	} {
		if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), d.String()) {
			t.Errorf("%s after Delete: got %v, want ErrNotFound naming %s", name, err, d)
		}
	}
}

func TestBadDigests(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	tests := []struct {
		dgst digest.Digest
		want error
	}{
		{"", errdefs.ErrInvalidArgument},
		{"sha256:1234", errdefs.ErrInvalidArgument},
		{"sha256:../../../../etc/passwd", errdefs.ErrInvalidArgument},
		{digest.Digest("sha256:" + strings.Repeat("G", 64)), errdefs.ErrInvalidArgument},
		{"nonsense", errdefs.ErrInvalidArgument},
		{digest.Digest("sha512:" + strings.Repeat("ab", 64)), errdefs.ErrNotImplemented},
		{"md5:d41d8cd98f00b204e9800998ecf8427e", errdefs.ErrNotImplemented},
	}
	for _, tt := range tests {
		_, err := s.Info(ctx, tt.dgst)
		if !errors.Is(err, tt.want) {
			t.Errorf("Info(%q): got %v, want %v", tt.dgst, err, tt.want)
		}
		_, err = s.Writer(ctx, "k", Descriptor{Digest: tt.dgst, Size: -1})
		if tt.dgst != "" && !errors.Is(err, tt.want) {
			t.Errorf("Writer(%q): got %v, want %v", tt.dgst, err, tt.want)
		}
	}
}

func TestWalk(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	want := map[digest.Digest]int64{}
	for _, n := range []int{0, 1, 100, 5000} {
		want[put(t, s, testData(n))] = int64(n)
	}
	// Not blobs: a stray file and an ingest in progress.
	os.WriteFile(filepath.Join(s.blobDir(), "notes.txt"), []byte("x"), 0o644)
	w, err := s.Writer(ctx, "partial", Descriptor{Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write([]byte("half"))

	got := map[digest.Digest]int64{}
	var last digest.Digest
	err = s.Walk(ctx, func(i Info) error {
		if i.Digest < last {
			t.Errorf("Walk order: %s after %s", i.Digest, last)
		}
		last = i.Digest
		got[i.Digest] = i.Size
		return nil
	})
	if err != nil || len(got) != len(want) {
		t.Fatalf("Walk: got %v, %v, want %v", got, err, want)
	}
	for d, n := range want {
		if got[d] != n {
			t.Errorf("Walk %s: got size %d, want %d", d, got[d], n)
		}
	}

	stop := errors.New("stop")
	calls := 0
	if err := s.Walk(ctx, func(Info) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Walk with a failing fn: got %v after %d calls, want stop after 1", err, calls)
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := testData(4096)
	d := put(t, s, data)
	if err := s.Verify(ctx, d); err != nil {
		t.Fatalf("Verify of a good blob: %v", err)
	}

	// Flip one bit in place, as a bad disk would.
	p, _ := s.Path(d)
	os.Chmod(p, 0o644)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{data[2048] ^ 0x10}, 2048)
	f.Close()

	err = s.Verify(ctx, d)
	bad := bytes.Clone(data)
	bad[2048] ^= 0x10
	found := digest.FromBytes(bad)
	if !errors.Is(err, errdefs.ErrDataLoss) || !strings.Contains(err.Error(), d.String()) || !strings.Contains(err.Error(), found.String()) {
		t.Errorf("Verify of a flipped byte: got %v, want ErrDataLoss naming %s and %s", err, d, found)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Verify(cancelled, d); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context: got %v, want context.Canceled", err)
	}
}
