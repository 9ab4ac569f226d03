package content

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

type opened struct {
	w   *Writer
	err error
}

// openAsync calls Writer in a goroutine.
func openAsync(s *Store, ctx context.Context, key string, d Descriptor) <-chan opened {
	ch := make(chan opened, 1)
	go func() {
		w, err := s.Writer(ctx, key, d)
		ch <- opened{w, err}
	}()
	return ch
}

// stillWaiting fails the test if the writer came back. A short look cannot
// prove it waits, but it never fails a correct store.
func stillWaiting(t *testing.T, ch <-chan opened) {
	t.Helper()
	select {
	case o := <-ch:
		t.Fatalf("second writer did not wait: got %v, %v", o.w, o.err)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestSecondWriterGetsCommittedBlob(t *testing.T) {
	ctx := context.Background()
	data := testData(1000)
	d := descOf(data)
	s := newStore(t)
	// Another Store value on the same root, as another process would have.
	other, err := Open(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"pull-same", "push-other-key"} {
		w1, err := s.Writer(ctx, "pull-same", d)
		if err != nil {
			t.Fatal(err)
		}
		w1.Write(data[:10])
		if _, err := other.TryWriter(ctx, key, d); !errors.Is(err, errdefs.ErrUnavailable) {
			t.Errorf("TryWriter(%s) while held: got %v, want ErrUnavailable", key, err)
		}
		ch := openAsync(other, ctx, key, d)
		stillWaiting(t, ch)
		w1.Write(data[10:])
		if _, err := w1.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if o := <-ch; !errors.Is(o.err, errdefs.ErrAlreadyExists) {
			t.Errorf("waiting writer (%s) after Commit: got %v, want ErrAlreadyExists", key, o.err)
		}
		if err := s.Delete(ctx, d.Digest); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSecondWriterTakesOver(t *testing.T) {
	ctx := context.Background()
	data := testData(1000)
	d := descOf(data)
	for _, stop := range []string{"Close", "Abort"} {
		s := newStore(t)
		w1, err := s.Writer(ctx, "pull-1", d)
		if err != nil {
			t.Fatal(err)
		}
		w1.Write(data[:300])
		ch := openAsync(s, ctx, "pull-1", d)
		stillWaiting(t, ch)
		want := int64(300)
		if stop == "Abort" {
			w1.Abort()
			want = 0
		} else {
			w1.Close()
		}
		o := <-ch
		if o.err != nil {
			t.Fatalf("waiting writer after %s: %v", stop, o.err)
		}
		if o.w.Offset() != want {
			t.Errorf("waiting writer after %s: got offset %d, want %d", stop, o.w.Offset(), want)
		}
		o.w.Write(data[want:])
		if _, err := o.w.Commit(ctx); err != nil {
			t.Errorf("Commit after taking over from %s: %v", stop, err)
		}
	}
}

func TestSameKeyUnknownDigest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	w1, err := s.Writer(ctx, "load-1", Descriptor{Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TryWriter(ctx, "load-1", Descriptor{Size: -1}); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("TryWriter on a held key: got %v, want ErrUnavailable", err)
	}
	w2, err := s.TryWriter(ctx, "load-2", Descriptor{Size: -1})
	if err != nil {
		t.Errorf("TryWriter on another key: %v", err)
	} else {
		w2.Abort()
	}
	ch := openAsync(s, ctx, "load-1", Descriptor{Size: -1})
	stillWaiting(t, ch)
	w1.Write([]byte("hello"))
	if _, err := w1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	o := <-ch
	if o.err != nil || o.w.Offset() != 0 {
		t.Fatalf("waiter on a committed unknown-digest key: got %v, %v, want a fresh writer", o.w, o.err)
	}
	o.w.Abort()
}

func TestWaitCancelled(t *testing.T) {
	s := newStore(t)
	d := descOf(testData(10))
	w1, err := s.Writer(context.Background(), "pull-1", d)
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Abort()
	ctx, cancel := context.WithCancel(context.Background())
	ch := openAsync(s, ctx, "pull-1", d)
	stillWaiting(t, ch)
	cancel()
	if o := <-ch; !errors.Is(o.err, context.Canceled) {
		t.Errorf("waiting writer with a cancelled context: got %v, want context.Canceled", o.err)
	}
}

// TestManyPullersOneDownload has many goroutines pull one blob the way the
// puller does: exactly one writes it, every other one finds it present.
func TestManyPullersOneDownload(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := testData(64 << 10)
	d := descOf(data)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrote, present := 0, 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := s.Writer(ctx, "pull-"+d.Digest.String(), d)
			if errors.Is(err, errdefs.ErrAlreadyExists) {
				mu.Lock()
				present++
				mu.Unlock()
				return
			}
			if err != nil {
				t.Errorf("Writer: %v", err)
				return
			}
			w.Write(data[w.Offset():])
			if _, err := w.Commit(ctx); err != nil {
				t.Errorf("Commit: %v", err)
			}
			mu.Lock()
			wrote++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if wrote != 1 || present != 15 {
		t.Errorf("got %d writers and %d finding the blob, want 1 and 15", wrote, present)
	}
	if err := s.Verify(ctx, d.Digest); err != nil {
		t.Error(err)
	}
}
