package content

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/containerd/errdefs"
)

// childEnv names the store root a re-executed test binary writes into.
const childEnv = "BERTH_CONTENT_TEST_CHILD"

const (
	childSize  = 3 << 20
	childWrote = 1<<20 + 12345
)

func TestMain(m *testing.M) {
	if root := os.Getenv(childEnv); root != "" {
		if err := childWriter(root); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childWriter is the other process: it writes part of a blob, says so on
// stdout, and waits to be killed.
func childWriter(root string) error {
	s, err := Open(root)
	if err != nil {
		return err
	}
	data := testData(childSize)
	w, err := s.Writer(context.Background(), "pull-child", descOf(data))
	if err != nil {
		return err
	}
	if _, err := w.Write(data[:childWrote]); err != nil {
		return err
	}
	fmt.Println("wrote", w.Offset())
	io.Copy(io.Discard, os.Stdin) // until killed; returns if the parent dies
	return nil
}

// TestKilledWriterResumes runs a writer in a second process, checks that its
// lock is seen from this one, kills it with SIGKILL mid-blob and resumes
// what it wrote.
func TestKilledWriterResumes(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	data := testData(childSize)
	d := descOf(data)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+root)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill() // only the child this test started
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "wrote "+strconv.Itoa(childWrote)+"\n" {
		t.Fatalf("child: got %q, %v, stderr %q", line, err, stderr.String())
	}

	s, err := Open(root) // the child holds its ingest: Open must leave it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TryWriter(ctx, "pull-child", d); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("TryWriter while the child writes: got %v, want ErrUnavailable", err)
	}
	if _, err := s.TryWriter(ctx, "another-key", d); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("TryWriter of the child's digest under another key: got %v, want ErrUnavailable", err)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	if _, err := Open(root); err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	if _, err := s.Info(ctx, d.Digest); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Info after kill: got %v, want ErrNotFound", err)
	}
	w, err := s.TryWriter(ctx, "pull-child", d)
	if err != nil {
		t.Fatalf("Writer after kill: %v", err)
	}
	if w.Offset() != childWrote {
		t.Errorf("Offset after kill: got %d, want %d", w.Offset(), childWrote)
	}
	partial, _ := io.ReadAll(w.Partial())
	if !bytes.Equal(partial, data[:childWrote]) {
		t.Errorf("Partial after kill: got %d bytes, want the child's %d", len(partial), childWrote)
	}
	w.Write(data[w.Offset():])
	if _, err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit after kill: %v", err)
	}
	if err := s.Verify(ctx, d.Digest); err != nil {
		t.Error(err)
	}
}
