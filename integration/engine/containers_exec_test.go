package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestExec: docker exec with output, exit codes, stdin, user, workdir,
// env, a terminal, detached, and its refusals.
func TestExec(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image
	d.OK("run", "-d", "--name", "box", img, "sleep", "1000")

	r := d.Docker("exec", "box", "sh", "-c", "echo out; echo err >&2; exit 5")
	if r.Code != 5 || r.Stdout != "out\n" || r.Stderr != "err\n" {
		t.Errorf("docker exec: got exit %d, stdout %q, stderr %q; want 5, out, err", r.Code, r.Stdout, r.Stderr)
	}
	for i := range 5 {
		if out := d.OK("exec", "box", "echo", fmt.Sprint(i)); out != fmt.Sprintf("%d\n", i) {
			t.Errorf("docker exec echo %d: got %q", i, out)
		}
	}
	r = d.DockerIn(strings.NewReader("through stdin\n"), "exec", "-i", "box", "cat")
	if r.Code != 0 || r.Stdout != "through stdin\n" {
		t.Errorf("docker exec -i cat: got exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if out := d.OK("exec", "-u", "65534:65534", "-w", "/tmp", "-e", "GREETING=hi", "box", "sh", "-c", "id -u; id -g; pwd; echo $GREETING"); out != "65534\n65534\n/tmp\nhi\n" {
		t.Errorf("docker exec -u -w -e: got %q", out)
	}
	if out := d.OK("exec", "-u", "nobody", "box", "id", "-u"); out != "65534\n" {
		t.Errorf("docker exec -u nobody: got %q", out)
	}
	r = d.Docker("exec", "box", "no-such-command")
	if r.Code != 127 || !strings.Contains(r.Stderr, "executable file not found") {
		t.Errorf("docker exec of a missing command: got exit %d, stderr %q; want 127", r.Code, r.Stderr)
	}

	s := d.dockerOnTerminal("exec", "-it", "box", "sh", "-c", "stty size; tty; exit 3")
	if code := s.wait(); code != 3 || !strings.Contains(s.output(), fmt.Sprintf("%d %d\r\n/dev/pts/", termRows, termCols)) {
		t.Errorf("docker exec -it: got exit %d, terminal %q", code, s.output())
	}

	d.OK("exec", "-d", "box", "sh", "-c", "echo detached > /tmp/mark")
	waitFor(t, "the detached exec", 10*time.Second, func() bool {
		return d.Docker("exec", "box", "cat", "/tmp/mark").Stdout == "detached\n"
	})

	d.OK("pause", "box")
	if stderr := d.Fail("exec", "box", "true"); !strings.Contains(stderr, "is paused, unpause the container before exec") {
		t.Errorf("exec in a paused container: got %q", stderr)
	}
	d.OK("unpause", "box")
	d.OK("stop", "-t", "0", "box")
	if stderr := d.Fail("exec", "box", "true"); !strings.Contains(stderr, "is not running") {
		t.Errorf("exec in a stopped container: got %q", stderr)
	}
}
