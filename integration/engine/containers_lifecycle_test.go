package engine_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDetachedLifecycle drives one detached container through what
// docker users do to it: ps, inspect, pause, unpause, rm refused, stop,
// restart, rename, kill, rm -f; and the errors for names in use and
// containers that do not exist.
func TestDetachedLifecycle(t *testing.T) {
	d := newCtrDaemon(t)
	img := d.Image

	id := strings.TrimSpace(d.OK("run", "-d", "--name", "web", img, "sleep", "1000"))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("docker run -d: got %q, want a 64-digit ID", id)
	}
	ps := d.OK("ps", "--format", "{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.Status}}")
	if want := regexp.MustCompile(`^` + id[:12] + ` web ` + regexp.QuoteMeta(img) + ` "sleep 1000" Up (Less than a second|\d+ seconds?)\n$`); !want.MatchString(ps) {
		t.Errorf("docker ps: got %q, want %q", ps, want)
	}
	var pid int
	if f := strings.Fields(d.inspect("web", "{{.State.Status}} {{.State.Pid}}")); len(f) != 2 || f[0] != "running" {
		t.Fatalf("inspect web: got %q, want running and a pid", f)
	} else {
		pid, _ = strconv.Atoi(f[1])
	}
	if cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err != nil || !strings.HasPrefix(string(cmd), "sleep\x001000") {
		t.Errorf("process %d: got cmdline %q (%v), want sleep 1000", pid, cmd, err)
	}
	for format, want := range map[string]string{
		"{{.Name}}":                            "/web",
		"{{.Config.Image}}":                    img,
		"{{.HostConfig.NetworkMode}}":          "bridge",
		"{{.NetworkSettings.IPAddress}}":       "",
		"{{.Driver}} {{.RestartCount}}":        "overlayfs 0",
		"{{.Path}} {{json .Args}}":             `sleep ["1000"]`,
		"{{.LogPath}}":                         d.Data + "/containers/" + id + "/" + id + "-json.log",
		"{{.State.Running}} {{.State.Paused}}": "true false",
	} {
		if got := d.inspect("web", format); got != want {
			t.Errorf("inspect -f %s: got %q, want %q", format, got, want)
		}
	}

	top := lines(d.OK("top", "web"))
	if len(top) != 2 || !strings.HasPrefix(top[0], "UID") || !strings.HasSuffix(top[1], "sleep 1000") || !strings.Contains(top[1], " "+strconv.Itoa(pid)+" ") {
		t.Errorf("docker top: got %q, want the titles and sleep 1000 with pid %d", top, pid)
	}

	d.OK("pause", "web")
	if got := d.inspect("web", "{{.State.Status}} {{.State.Paused}}"); got != "paused true" {
		t.Errorf("after pause: got %q, want \"paused true\"", got)
	}
	if st := d.OK("ps", "--format", "{{.Status}}"); !strings.Contains(st, "(Paused)") {
		t.Errorf("docker ps of a paused container: got %q, want (Paused)", st)
	}
	if stderr := d.Fail("pause", "web"); !strings.Contains(stderr, "is already paused") {
		t.Errorf("second pause: got %q", stderr)
	}
	d.OK("unpause", "web")
	if got := d.inspect("web", "{{.State.Status}}"); got != "running" {
		t.Errorf("after unpause: got %q, want running", got)
	}

	if stderr := d.Fail("rm", "web"); !strings.Contains(stderr, `cannot remove container "/web": container is running: stop the container before removing or force remove`) {
		t.Errorf("docker rm of a running container: got %q", stderr)
	}
	// sleep as PID 1 ignores SIGTERM: stop waits -t and kills.
	if out := d.OK("stop", "-t", "1", "web"); out != "web\n" {
		t.Errorf("docker stop: got %q", out)
	}
	if got := d.inspect("web", "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}"); got != "exited 137 0" {
		t.Errorf("after stop: got %q, want \"exited 137 0\"", got)
	}
	if st := d.OK("ps", "-a", "--format", "{{.Status}}"); !regexp.MustCompile(`^Exited \(137\) (Less than a second|\d+ seconds?) ago\n$`).MatchString(st) {
		t.Errorf("docker ps -a after stop: got %q", st)
	}
	d.OK("stop", "web") // stopping a stopped container is no error

	d.OK("restart", "web")
	if got := d.inspect("web", "{{.State.Status}} {{.RestartCount}}"); got != "running 0" {
		t.Errorf("after restart: got %q, want \"running 0\"", got)
	}
	d.OK("rename", "web", "web2")
	if got := d.inspect(id[:12], "{{.Name}}"); got != "/web2" {
		t.Errorf("after rename: got %q, want /web2", got)
	}
	if stderr := d.Fail("inspect", "--type", "container", "web"); !strings.Contains(stderr, "No such container: web") {
		t.Errorf("inspect of the old name: got %q", stderr)
	}
	d.OK("kill", "web2")
	if got := d.inspect("web2", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
		t.Errorf("after kill: got %q, want \"exited 137\"", got)
	}
	if stderr := d.Fail("kill", "web2"); !strings.Contains(stderr, "is not running") {
		t.Errorf("kill of a stopped container: got %q", stderr)
	}

	// A shell that traps SIGTERM exits as its script says.
	d.OK("run", "-d", "--name", "trap", img, "sh", "-c", `trap "echo got term; exit 143" TERM; echo ready; while true; do sleep 0.1; done`)
	waitFor(t, "the trap script to start", 10*time.Second, func() bool { return strings.Contains(d.OK("logs", "trap"), "ready") })
	start := time.Now()
	d.OK("stop", "trap")
	if got := d.inspect("trap", "{{.State.ExitCode}}"); got != "143" || time.Since(start) > 8*time.Second {
		t.Errorf("stop of a trapping shell: got exit %s after %v, want 143 at once", got, time.Since(start))
	}
	if logs := d.OK("logs", "trap"); logs != "ready\ngot term\n" {
		t.Errorf("logs of the trap script: got %q", logs)
	}

	// docker wait prints the exit code.
	d.OK("run", "-d", "--name", "seven", img, "sh", "-c", "sleep 0.3; exit 7")
	if got := strings.TrimSpace(d.OK("wait", "seven")); got != "7" {
		t.Errorf("docker wait: got %q, want 7", got)
	}

	d.OK("run", "-d", "--name", "dup", img, "sleep", "1000")
	dupID := strings.TrimSpace(d.OK("inspect", "-f", "{{.Id}}", "dup"))
	r := d.Docker("run", "-d", "--name", "dup", img, "true")
	if want := `Conflict. The container name "/dup" is already in use by container "` + dupID + `". You have to remove (or rename) that container to be able to reuse that name.`; r.Code != 125 || !strings.Contains(r.Stderr, want) {
		t.Errorf("name in use: got exit %d, %q; want 125 and %q", r.Code, r.Stderr, want)
	}
	if stderr := d.Fail("run", "--name", "bad name!", img, "true"); !strings.Contains(stderr, "Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed") {
		t.Errorf("invalid name: got %q", stderr)
	}
	for _, verb := range [][]string{{"stop", "nosuch"}, {"start", "nosuch"}, {"logs", "nosuch"}, {"rm", "nosuch"}, {"wait", "nosuch"}} {
		if stderr := d.Fail(verb...); !strings.Contains(stderr, "No such container: nosuch") {
			t.Errorf("docker %s: got %q, want No such container", strings.Join(verb, " "), stderr)
		}
	}
	code, _, body := d.API("GET", "/v1.50/containers/nosuch/json", nil)
	if code != 404 || !strings.Contains(body, `"message":"No such container: nosuch"`) {
		t.Errorf("GET /containers/nosuch/json: got %d %s", code, body)
	}

	// Filters of docker ps.
	all := map[string]string{}
	for _, l := range lines(d.OK("ps", "-a", "--format", "{{.Names}} {{.State}}")) {
		f := strings.Fields(l)
		all[f[0]] = f[1]
	}
	if len(all) != 4 || all["dup"] != "running" || all["seven"] != "exited" {
		t.Errorf("docker ps -a: got %v", all)
	}
	for filter, want := range map[string]string{
		"status=exited": "seven trap web2", "status=running": "dup", "name=^/dup$": "dup", "exited=7": "seven",
		"ancestor=" + img: "dup seven trap web2", "id=" + dupID[:10]: "dup", "before=seven": "trap web2", "since=trap": "dup seven",
	} {
		got := strings.Fields(d.OK("ps", "-a", "--filter", filter, "--format", "{{.Names}}"))
		sortStrings(got)
		if strings.Join(got, " ") != want {
			t.Errorf("docker ps -a --filter %s: got %q, want %q", filter, got, want)
		}
	}
	d.OK("rm", "-f", "dup", "web2")
	if got := strings.Fields(d.OK("ps", "-a", "--format", "{{.Names}}")); len(got) != 2 {
		t.Errorf("after rm -f: got %q", got)
	}
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}
