package engine_test

import (
	"strings"
	"testing"
)

// TestRunForeground: docker run in the foreground, its output and exit
// code, --rm, stdin piped with -i, and the errors for a missing command.
func TestRunForeground(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image

	r := d.Docker("run", "--rm", img, "echo", "hi")
	if r.Code != 0 || r.Stdout != "hi\n" {
		t.Errorf("docker run --rm echo hi: got exit %d, stdout %q, stderr %q; want 0, \"hi\\n\"", r.Code, r.Stdout, r.Stderr)
	}
	if out := d.OK("ps", "-aq"); out != "" {
		t.Errorf("docker ps -aq after run --rm: got %q, want nothing", out)
	}

	r = d.Docker("run", "--name", "three", img, "sh", "-c", "echo out; echo err >&2; exit 3")
	if r.Code != 3 || r.Stdout != "out\n" || r.Stderr != "err\n" {
		t.Errorf("docker run exit 3: got exit %d, stdout %q, stderr %q; want 3, out, err", r.Code, r.Stdout, r.Stderr)
	}
	if got := d.inspect("three", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}"); got != "exited 3 false" {
		t.Errorf("inspect after exit 3: got %q, want \"exited 3 false\"", got)
	}

	r = d.DockerIn(strings.NewReader("line one\nline two\n"), "run", "--rm", "-i", img, "cat")
	if r.Code != 0 || r.Stdout != "line one\nline two\n" {
		t.Errorf("docker run -i cat: got exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}

	r = d.Docker("run", "--rm", img, "no-such-command")
	if r.Code != 127 {
		t.Errorf("docker run no-such-command: got exit %d (stderr %q), want 127", r.Code, r.Stderr)
	}
}
