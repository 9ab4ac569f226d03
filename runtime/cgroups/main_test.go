package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary, re-executed, act as a container process
// instead of running tests.
const helperEnv = "BERTH_CGROUPS_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "spin":
		spin()
	case "devices":
		probeDevices()
	}
	os.Exit(m.Run())
}

// spin burns some CPU and faults in fresh memory, so the cgroup has usage to
// report (v1 leaves pages charged where they were first touched), until
// stdin closes (the test died or is done).
func spin() {
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Println("ready")
	var keep []byte
	for {
		b, err := unix.Mmap(-1, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err == nil {
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			if keep != nil {
				_ = unix.Munmap(keep)
			}
			keep = b
		}
		for end := time.Now().Add(5 * time.Millisecond); time.Now().Before(end); {
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// probeDevices waits for a line on stdin (sent once its cgroup and device
// filter are in place), then opens device nodes and reports each outcome.
func probeDevices() {
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		os.Exit(1)
	}
	for _, p := range probes() {
		fd, err := unix.Open(p.path, p.flags|unix.O_CLOEXEC, 0)
		res := "ok"
		if err != nil {
			res = unix.ErrnoName(err.(unix.Errno))
		} else {
			unix.Close(fd)
		}
		fmt.Printf("%s %s\n", p.name, res)
	}
	os.Exit(0)
}

type probe struct {
	name, path string
	flags      int
}

// probes are the opens probeDevices tries: /dev/null is 1:3, /dev/zero 1:5
// and /dev/full 1:7.
func probes() []probe {
	return []probe{
		{"null-rw", "/dev/null", unix.O_RDWR},
		{"zero-r", "/dev/zero", unix.O_RDONLY},
		{"zero-w", "/dev/zero", unix.O_WRONLY},
		{"full-r", "/dev/full", unix.O_RDONLY},
	}
}

type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startHelper re-executes the test binary in mode; the child is killed and
// reaped at cleanup, before cleanups registered earlier run.
func startHelper(t *testing.T, mode string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(h.stop)
	if line, err := h.out.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("helper %s: got %q, %v; want ready", mode, line, err)
	}
	return h
}

func (h *helper) stop() {
	if h.cmd.ProcessState == nil {
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
	}
}
