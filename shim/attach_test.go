package shim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readFrame reads one frame of the multiplexed stream.
func readFrame(t *testing.T, c net.Conn) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("read frame header: %v", err)
	}
	buf := make([]byte, binary.BigEndian.Uint32(hdr[4:]))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return int(hdr[0]), string(buf)
}

func TestAttachStdin(t *testing.T) {
	e := newEnv(t, "cat")
	e.opts.Stdin = true
	ctx := testCtx(t)
	s, c := e.startAttached(ctx)
	for _, line := range []string{"hello\n", "again\n"} {
		if _, err := c.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		if stream, got := readFrame(t, c); stream != Stdout || got != line {
			t.Fatalf("echo: got stream %d %q, want stream 1 %q", stream, got, line)
		}
	}
	if err := s.CloseStdin(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.wait(s); st.Code != 0 {
		t.Errorf("cat after stdin closed: exit code %d, want 0", st.Code)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
		t.Errorf("attach after exit: got %q, %v, want EOF", rest, err)
	}
	recs := readLog(t, e.opts.LogPath)
	if len(recs) != 2 || recs[0].Log != "hello\n" || recs[1].Log != "again\n" {
		t.Errorf("log: got %+v, want hello and again", recs)
	}
}

// Several clients each get all the output, attached before the start.
func TestAttachMany(t *testing.T) {
	e := newEnv(t, "sh", "-c", "read x; echo $x; echo bye >&2")
	e.opts.Stdin = true
	ctx := testCtx(t)
	s := e.start(ctx)
	var conns []net.Conn
	for range 3 {
		c, err := s.Attach(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	conns[1].Write([]byte("hi\n"))
	for i, c := range conns {
		var out, errs bytes.Buffer
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := Demux(c, &out, &errs); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if out.String() != "hi\n" || errs.String() != "bye\n" {
			t.Errorf("client %d: got stdout %q stderr %q, want \"hi\\n\" and \"bye\\n\"", i, out.String(), errs.String())
		}
	}
	e.wait(s)
}

func TestTerminal(t *testing.T) {
	e := newEnv(t, "sh", "-c", "stty size; read x; stty size; echo got $x")
	if err := os.Symlink("busybox", filepath.Join(e.bundle.Rootfs, "bin", "stty")); err != nil {
		t.Fatal(err)
	}
	e.bundle.Spec.Process.Terminal = true
	e.opts.Terminal, e.opts.Stdin = true, true
	ctx := testCtx(t)
	s := e.start(ctx)
	if !s.Terminal() {
		t.Fatal("Terminal: got false, want true")
	}
	if err := s.Resize(ctx, 30, 100); err != nil {
		t.Fatal(err)
	}
	c, err := s.Attach(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	readUntil(t, c, r, "30 100")
	if err := s.Resize(ctx, 40, 120); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello\n"))
	if out := readUntil(t, c, r, "got hello"); !strings.Contains(out, "40 120") {
		t.Errorf("output after resize: got %q, want the new size 40 120", out)
	}
	st := e.wait(s)
	if st.Code != 0 {
		t.Errorf("exit code: got %d, want 0", st.Code)
	}
	var all strings.Builder
	for _, rec := range readLog(t, e.opts.LogPath) {
		if rec.Stream != "stdout" {
			t.Errorf("tty record on stream %q, want stdout", rec.Stream)
		}
		all.WriteString(rec.Log)
	}
	for _, want := range []string{"30 100\r\n", "hello\r\n", "40 120\r\n", "got hello\r\n"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("log %q: want %q in it", all.String(), want)
		}
	}
}

// readUntil reads raw (pty) output until it holds want.
func readUntil(t *testing.T, c net.Conn, r *bufio.Reader, want string) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out strings.Builder
	for !strings.Contains(out.String(), want) {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("read pty output: %v; got %q, want %q in it", err, out.String(), want)
		}
		out.WriteByte(b)
	}
	return out.String()
}
