package mount

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testutil"
)

// TestPrivate: what a Private function binds (read-only or not) is seen
// inside it and never outside, also with many at once while other
// goroutines keep the process busy with system calls (which once put a
// Private function on the main thread, whose namespace /proc/self shows).
func TestPrivate(t *testing.T) {
	testutil.RequireRoot(t)
	before, _ := os.Readlink("/proc/self/ns/mnt")
	dir := tempDir(t)
	src := filepath.Join(dir, "src")
	writeFile(t, filepath.Join(src, "file"), "from src")
	stop := make(chan struct{})
	var busy sync.WaitGroup
	for range 4 {
		busy.Add(1)
		go func() {
			defer busy.Done()
			for {
				select {
				case <-stop:
					return
				default:
					os.Stat(dir)
				}
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		target := filepath.Join(dir, fmt.Sprintf("t%d", i))
		mkdirs(t, target)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- Private(func() error {
				fd, err := unix.Open(target, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
				if err != nil {
					return err
				}
				defer unix.Close(fd)
				if err := BindAt(src, fd, false, i%2 == 0); err != nil {
					return err
				}
				b, err := os.ReadFile(filepath.Join(target, "file"))
				if err != nil || string(b) != "from src" {
					return fmt.Errorf("inside: read %s: %q, %v", target, b, err)
				}
				werr := os.WriteFile(filepath.Join(target, "w"), nil, 0o644)
				if ro := i%2 == 0; ro != (werr != nil) {
					return fmt.Errorf("inside: write to a bind read-only=%v: %v", ro, werr)
				}
				os.Remove(filepath.Join(target, "w"))
				return nil
			})
		}()
	}
	wg.Wait()
	close(stop)
	busy.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if mps, err := Under(dir); err != nil || len(mps) != 0 {
		t.Errorf("mounts seen outside: %q, %v", mps, err)
	}
	// The main thread (what /proc/self shows) never changes namespace.
	if after, _ := os.Readlink("/proc/self/ns/mnt"); after != before {
		t.Errorf("the process's mount namespace: got %s, want %s", after, before)
	}
}
