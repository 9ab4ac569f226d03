package content

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

func TestWriterKnownAndUnknown(t *testing.T) {
	ctx := context.Background()
	data := testData(10000)
	want := descOf(data)
	for _, expected := range []Descriptor{
		want,
		{Size: -1},
		{Digest: want.Digest, Size: -1},
		{Size: want.Size},
	} {
		s := newStore(t)
		w, err := s.Writer(ctx, "load-1", expected)
		if err != nil {
			t.Fatalf("Writer(%+v): %v", expected, err)
		}
		if w.Offset() != 0 {
			t.Errorf("Offset of a new ingest: got %d, want 0", w.Offset())
		}
		for chunk := range slices.Chunk(data, 777) {
			if _, err := w.Write(chunk); err != nil {
				t.Fatalf("Write: %v", err)
			}
		}
		got, err := w.Commit(ctx)
		if err != nil || got != want {
			t.Fatalf("Commit(%+v): got %+v, %v, want %+v", expected, got, err, want)
		}
		if err := s.Verify(ctx, want.Digest); err != nil {
			t.Errorf("Verify after Commit: %v", err)
		}
		if ins, _ := s.Ingests(ctx); len(ins) != 0 {
			t.Errorf("Ingests after Commit: got %+v, want none", ins)
		}
		if _, err := w.Write([]byte("x")); !errors.Is(err, errdefs.ErrFailedPrecondition) {
			t.Errorf("Write after Commit: got %v, want ErrFailedPrecondition", err)
		}
	}
}

func TestWriterBadArguments(t *testing.T) {
	s := newStore(t)
	for _, tt := range []struct {
		key      string
		expected Descriptor
	}{
		{"", Descriptor{Size: -1}},
		{strings.Repeat("k", maxKeyLen+1), Descriptor{Size: -1}},
		{"k", Descriptor{Size: -2}},
	} {
		if _, err := s.Writer(context.Background(), tt.key, tt.expected); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Writer(%.10q, %+v): got %v, want ErrInvalidArgument", tt.key, tt.expected, err)
		}
	}
}

func TestWriterBlobExists(t *testing.T) {
	s := newStore(t)
	data := testData(100)
	put(t, s, data)
	_, err := s.Writer(context.Background(), "pull-again", descOf(data))
	if !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("Writer for a present blob: got %v, want ErrAlreadyExists", err)
	}

	// Content of unknown digest that turns out to be present: Commit
	// succeeds and keeps the one copy.
	w, err := s.Writer(context.Background(), "load-dup", Descriptor{Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if got, err := w.Commit(context.Background()); err != nil || got != descOf(data) {
		t.Errorf("Commit of a present blob: got %+v, %v, want %+v", got, err, descOf(data))
	}
}

func TestWritePastExpectedSize(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := testData(100)
	for _, expected := range []Descriptor{descOf(data), {Size: 100}} {
		w, err := s.Writer(ctx, "pull-big", expected)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data[:60])
		n, err := w.Write(data[60:])
		if err != nil || n != 40 {
			t.Fatalf("Write up to the size: got %d, %v", n, err)
		}
		n, err = w.Write([]byte{0})
		if !errors.Is(err, errdefs.ErrFailedPrecondition) || n != 0 || !strings.Contains(err.Error(), "expected size 100") {
			t.Errorf("Write past the size: got %d, %v, want 0 and ErrFailedPrecondition", n, err)
		}
		if w.Offset() != 100 {
			t.Errorf("Offset after a refused write: got %d, want 100", w.Offset())
		}
		w.Abort()
	}
	w, _ := s.Writer(ctx, "absurd", Descriptor{Size: 10})
	defer w.Abort()
	if n, err := w.Write(make([]byte, 1<<20)); n != 0 || err == nil {
		t.Errorf("Write of 1 MiB for 10 bytes: got %d, %v, want 0 and an error", n, err)
	}
}

func TestCommitWrongContent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := testData(1000)
	want := descOf(data)
	served := bytes.Clone(data)
	served[500] ^= 1 // a registry serving a different body of the right size

	w, err := s.Writer(ctx, "pull-x", want)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(served)
	_, err = w.Commit(ctx)
	if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), want.Digest.String()) ||
		!strings.Contains(err.Error(), digest.FromBytes(served).String()) {
		t.Errorf("Commit of a wrong body: got %v, want ErrFailedPrecondition naming both digests", err)
	}
	if _, err := s.Info(ctx, want.Digest); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Info after a wrong body: got %v, want ErrNotFound", err)
	}
	if ins, _ := s.Ingests(ctx); len(ins) != 0 {
		t.Errorf("Ingests after a wrong body: got %+v, want it discarded", ins)
	}

	// A truncated body keeps what came, for resume.
	w, _ = s.Writer(ctx, "pull-x", want)
	w.Write(data[:400])
	if _, err := w.Commit(ctx); !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "got 400 bytes, want 1000") {
		t.Errorf("Commit of a short body: got %v, want ErrFailedPrecondition with the sizes", err)
	}
	w, _ = s.Writer(ctx, "pull-x", want)
	if w.Offset() != 400 {
		t.Errorf("Offset after a short commit: got %d, want 400", w.Offset())
	}
	w.Write(data[400:])
	if _, err := w.Commit(ctx); err != nil {
		t.Errorf("Commit after resume: %v", err)
	}
}

func TestResume(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := testData(5000)
	want := descOf(data)

	w, err := s.Writer(ctx, "pull-r", want)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data[:1234])
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Info(ctx, want.Digest); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Info after Close: got %v, want ErrNotFound", err)
	}

	w, err = s.Writer(ctx, "pull-r", want)
	if err != nil {
		t.Fatal(err)
	}
	if w.Offset() != 1234 {
		t.Fatalf("Offset on resume: got %d, want 1234", w.Offset())
	}
	w.Write(data[1234:2000])
	partial, err := io.ReadAll(w.Partial())
	if err != nil || !bytes.Equal(partial, data[:1234]) {
		t.Errorf("Partial: got %d bytes, %v, want the first 1234", len(partial), err)
	}
	w.Write(data[2000:])
	if _, err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit after resume: %v", err)
	}
	if err := s.Verify(ctx, want.Digest); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestResumeRestarts checks the cases where kept data cannot be resumed.
func TestResumeRestarts(t *testing.T) {
	ctx := context.Background()
	a, b := testData(300), testData(200)
	tests := []struct {
		name        string
		first, then Descriptor
		wrote       []byte
	}{
		{"other digest", descOf(a), descOf(b), a[:50]},
		{"known after unknown", Descriptor{Size: -1}, descOf(a), a[:50]},
		{"longer than expected", Descriptor{Size: -1}, descOf(b), a},
	}
	for _, tt := range tests {
		s := newStore(t)
		w, err := s.Writer(ctx, "k", tt.first)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(tt.wrote)
		w.Close()
		w, err = s.Writer(ctx, "k", tt.then)
		if err != nil {
			t.Fatal(err)
		}
		if w.Offset() != 0 {
			t.Errorf("%s: Offset: got %d, want 0", tt.name, w.Offset())
		}
		w.Abort()
	}
}

func TestAbortAndIngests(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := testData(100)
	w, err := s.Writer(ctx, "pull/with:odd chars", descOf(data))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data[:30])

	ins, err := s.Ingests(ctx)
	if err != nil || len(ins) != 1 {
		t.Fatalf("Ingests: got %+v, %v, want one", ins, err)
	}
	in := ins[0]
	if in.Key != "pull/with:odd chars" || in.Expected != descOf(data) || in.Offset != 30 || !in.Active || in.StartedAt.IsZero() {
		t.Errorf("Ingests: got %+v", in)
	}
	if err := s.AbortIngest(ctx, in.Key); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("AbortIngest of an active ingest: got %v, want ErrUnavailable", err)
	}

	w.Close()
	if ins, _ := s.Ingests(ctx); len(ins) != 1 || ins[0].Active {
		t.Errorf("Ingests after Close: got %+v, want one inactive", ins)
	}
	if err := s.AbortIngest(ctx, in.Key); err != nil {
		t.Errorf("AbortIngest: %v", err)
	}
	if err := s.AbortIngest(ctx, in.Key); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("AbortIngest twice: got %v, want ErrNotFound", err)
	}

	w, _ = s.Writer(ctx, "k2", Descriptor{Size: -1})
	w.Write(data)
	if err := w.Abort(); err != nil {
		t.Errorf("Abort: %v", err)
	}
	if entries, _ := os.ReadDir(s.ingestRoot()); len(entries) != 0 {
		t.Errorf("ingest dir after Abort: got %v, want empty", entries)
	}
}
