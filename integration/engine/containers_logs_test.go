package engine_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLogs: docker logs of a container that wrote to stdout and stderr,
// with -t, --tail, --since and -f, and of a container with a terminal.
func TestLogs(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image

	d.OK("run", "-d", "--name", "talk", img, "sh", "-c", "echo one; echo two >&2; echo three; sleep 1.2; echo four; echo five >&2")
	d.OK("wait", "talk")
	r := d.Docker("logs", "talk")
	if r.Code != 0 || r.Stdout != "one\nthree\nfour\n" || r.Stderr != "two\nfive\n" {
		t.Errorf("docker logs: got exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	r = d.Docker("logs", "--tail", "2", "talk")
	if r.Stdout != "four\n" || r.Stderr != "five\n" {
		t.Errorf("docker logs --tail 2: got stdout %q, stderr %q; want four, five", r.Stdout, r.Stderr)
	}
	r = d.Docker("logs", "-t", "talk")
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (one|three|four)$`)
	var times []time.Time
	for _, l := range lines(r.Stdout) {
		if !stamp.MatchString(l) {
			t.Errorf("docker logs -t: line %q, want a timestamp and the text", l)
			continue
		}
		ts, _ := time.Parse(time.RFC3339Nano, strings.Fields(l)[0])
		times = append(times, ts)
	}
	if len(times) == 3 {
		// Lines written after the pause only.
		since := times[1].Add(500 * time.Millisecond)
		r = d.Docker("logs", "--since", fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()), "talk")
		if r.Stdout != "four\n" || r.Stderr != "five\n" {
			t.Errorf("docker logs --since: got stdout %q, stderr %q; want four, five", r.Stdout, r.Stderr)
		}
	}

	// -f follows until the container exits.
	d.OK("run", "-d", "--name", "slow", img, "sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.3; done")
	start := time.Now()
	r = d.Docker("logs", "-f", "slow")
	if r.Stdout != "line 1\nline 2\nline 3\n" || time.Since(start) > 20*time.Second {
		t.Errorf("docker logs -f: got %q after %v", r.Stdout, time.Since(start))
	}

	// A terminal's output comes back raw, \r\n and all.
	d.OK("run", "-d", "-t", "--name", "tty", img, "sh", "-c", "echo on a tty")
	d.OK("wait", "tty")
	if out := d.OK("logs", "tty"); out != "on a tty\r\n" {
		t.Errorf("docker logs of a tty container: got %q, want \"on a tty\\r\\n\"", out)
	}

	// Rotation: a small max-size keeps max-file files, and logs reads
	// the rotated ones too.
	id := strings.TrimSpace(d.OK("run", "-d", "--log-opt", "max-size=1k", "--log-opt", "max-file=3", img,
		"sh", "-c", "for i in $(seq 1 200); do echo line $i; done"))
	d.OK("wait", id)
	logPath := d.inspect(id, "{{.LogPath}}")
	rotated, _ := filepath.Glob(logPath + ".*")
	if len(rotated) != 2 {
		t.Errorf("rotated logs: got %q, want 2 besides the current one", rotated)
	}
	got := lines(d.OK("logs", id))
	if len(got) == 0 || len(got) >= 200 || got[len(got)-1] != "line 200" {
		t.Errorf("logs after rotation: got %d lines ending %q, want the last ones only", len(got), got[len(got)-1:])
	}
	for i := 1; i < len(got); i++ {
		var a, b int
		fmt.Sscanf(got[i-1], "line %d", &a)
		fmt.Sscanf(got[i], "line %d", &b)
		if b != a+1 {
			t.Errorf("logs across rotated files: %q then %q", got[i-1], got[i])
			break
		}
	}
}
