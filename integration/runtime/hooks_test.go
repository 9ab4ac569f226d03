package runtime_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/internal/testbundle"
)

// hookLine is one line a logging hook appended: the hook's name, the
// state it read on stdin, its mount namespace and one fact it checked.
type hookLine struct {
	name  string
	state specs.State
	mntNS string
	env   string
	fact  string
}

// logHook returns a hook that appends a hookLine to log. sh is the shell
// to run: the host's busybox for hooks run in the runtime's mount
// namespace, the container's for startContainer.
func logHook(sh, name, log, fact string) specs.Hook {
	script := fmt.Sprintf(`printf '%%s\t%%s\t%%s\t%%s\t%%s\n' %s "$(cat)" "$(readlink /proc/self/ns/mnt)" "$HOOKVAR" "$(%s)" >>%s`, name, fact, log)
	return specs.Hook{Path: sh, Args: []string{"sh", "-c", script}, Env: []string{"PATH=/bin:/usr/bin", "HOOKVAR=" + name + "-env"}}
}

func readHookLog(t *testing.T, log string) []hookLine {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []hookLine
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) == 1 {
			out = append(out, hookLine{name: f[0]}) // the container's own line
			continue
		}
		if len(f) != 5 {
			t.Fatalf("hook log line %q: want 5 tab-separated fields", line)
		}
		h := hookLine{name: f[0], mntNS: f[2], env: f[3], fact: f[4]}
		if err := json.Unmarshal([]byte(f[1]), &h.state); err != nil {
			t.Fatalf("hook %s: state on stdin %q is not JSON: %v", f[0], f[1], err)
		}
		out = append(out, h)
	}
	return out
}

func hookNames(ls []hookLine) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.name)
	}
	return out
}

func TestHooksLifecycle(t *testing.T) {
	r := newRT(t)
	bb := testbundle.Busybox(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	b := testbundle.New(t, "/bin/sh", "-c", "echo process >>/hooklog/log; exec /observer sleep")
	b.Spec.Annotations = map[string]string{"org.example.hooks": "yes"}
	b.Spec.Mounts = append(b.Spec.Mounts, bindMount("/hooklog", dir, "bind"))
	none := "echo -"
	b.Spec.Hooks = &specs.Hooks{
		Prestart:        []specs.Hook{logHook(bb, "prestart", log, none)},
		CreateRuntime:   []specs.Hook{logHook(bb, "createRuntime", log, none)},
		CreateContainer: []specs.Hook{logHook(bb, "createContainer", log, "test -e "+b.Rootfs+"/proc/self/status && echo rootfs-mounted")},
		StartContainer:  []specs.Hook{logHook("/bin/sh", "startContainer", "/hooklog/log", "test -x /observer && echo in-rootfs")},
		Poststart:       []specs.Hook{logHook(bb, "poststart", log, none)},
		Poststop:        []specs.Hook{logHook(bb, "poststop", log, "test -d "+filepath.Join(r.root, "ID")+" && echo state-left || echo state-gone")},
	}
	id := r.id()
	b.Spec.Hooks.Poststop[0].Args[2] = strings.ReplaceAll(b.Spec.Hooks.Poststop[0].Args[2], filepath.Join(r.root, "ID"), filepath.Join(r.root, id))
	b.Save(t)
	hostMnt, _ := os.Readlink("/proc/self/ns/mnt")

	r.ok("create", "--bundle", b.Dir, id)
	pid := int(r.state(id)["pid"].(float64))
	ctrMnt, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if got, want := hookNames(readHookLog(t, log)), []string{"prestart", "createRuntime", "createContainer"}; !slices.Equal(got, want) {
		t.Fatalf("after create: got hooks %v, want %v", got, want)
	}
	r.ok("start", id)
	if got := hookNames(readHookLog(t, log)); !slices.Contains(got, "poststart") {
		t.Fatalf("after start returned: got hooks %v, want poststart among them", got)
	}
	// startContainer runs in init after start released it, before the
	// process; wait for the process's own line.
	for deadline := time.Now().Add(10 * time.Second); !slices.Contains(hookNames(readHookLog(t, log)), "process"); {
		if time.Now().After(deadline) {
			t.Fatalf("the container's process never ran; hooks: %v", hookNames(readHookLog(t, log)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.ok("kill", id, "KILL")
	waitStatus(t, r, id, "stopped")
	r.ok("delete", id)

	lines := readHookLog(t, log)
	names := hookNames(lines)
	want := []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
	var hooksOnly []string
	for _, n := range names {
		if n != "process" {
			hooksOnly = append(hooksOnly, n)
		}
	}
	// poststart and the process race (as with runc); startContainer
	// comes before the process.
	if slices.Index(names, "startContainer") > slices.Index(names, "process") {
		t.Errorf("got order %v, want startContainer before the process", names)
	}
	if !slices.Equal(hooksOnly, want) && !slices.Equal(hooksOnly, []string{"prestart", "createRuntime", "createContainer", "poststart", "startContainer", "poststop"}) {
		t.Errorf("got hooks in order %v, want %v", hooksOnly, want)
	}
	for _, tc := range []struct {
		name, status, mntNS, fact string
	}{
		{"prestart", "creating", hostMnt, "-"},
		{"createRuntime", "creating", hostMnt, "-"},
		{"createContainer", "creating", ctrMnt, "rootfs-mounted"},
		{"startContainer", "created", ctrMnt, "in-rootfs"},
		{"poststart", "running", hostMnt, "-"},
		{"poststop", "stopped", hostMnt, "state-gone"},
	} {
		i := slices.Index(names, tc.name)
		if i < 0 {
			continue
		}
		h := lines[i]
		st := h.state
		if st.ID != id || st.Bundle != b.Dir || string(st.Status) != tc.status || st.Version == "" {
			t.Errorf("%s hook: got state id %q bundle %q status %q version %q, want %q %q %q and a version",
				tc.name, st.ID, st.Bundle, st.Status, st.Version, id, b.Dir, tc.status)
		}
		if tc.status != "stopped" && st.Pid != pid {
			t.Errorf("%s hook: got pid %d in the state, want init's %d", tc.name, st.Pid, pid)
		}
		if st.Annotations["org.example.hooks"] != "yes" {
			t.Errorf("%s hook: got annotations %v, want the config's", tc.name, st.Annotations)
		}
		if h.mntNS != tc.mntNS {
			t.Errorf("%s hook: ran in mount namespace %s, want %s", tc.name, h.mntNS, tc.mntNS)
		}
		if h.env != tc.name+"-env" {
			t.Errorf("%s hook: got HOOKVAR=%q, want the hook's env %q", tc.name, h.env, tc.name+"-env")
		}
		if h.fact != tc.fact {
			t.Errorf("%s hook: got %q, want %q", tc.name, h.fact, tc.fact)
		}
	}
}

func TestHookFailures(t *testing.T) {
	bb := testbundle.Busybox(t)
	timeout := 1
	hook := func(script string) specs.Hook {
		return specs.Hook{Path: bb, Args: []string{"sh", "-c", script}, Env: []string{"PATH=/bin:/usr/bin"}}
	}
	timed := specs.Hook{Path: bb, Args: []string{"sleep", "30"}, Timeout: &timeout}
	for _, tc := range []struct {
		name  string
		hooks specs.Hooks
		want  []string // in create's error
	}{
		{"timeout fails create", specs.Hooks{CreateRuntime: []specs.Hook{timed}}, []string{"createRuntime", "timed out after 1s"}},
		{"failing prestart fails create", specs.Hooks{Prestart: []specs.Hook{hook("echo refused by policy >&2; exit 3")}}, []string{"prestart", "refused by policy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t, "/observer", "sleep")
			b.Spec.Hooks = &tc.hooks
			b.Save(t)
			id := r.id()
			res := r.run("create", "--bundle", b.Dir, id)
			if res.code == 0 {
				t.Fatal("create succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("got error %q, want it to contain %q", res.stderr, w)
				}
			}
			requireNothingLeft(t, r, id)
		})
	}
	t.Run("failing poststop is a warning", func(t *testing.T) {
		r := newRT(t)
		b := testbundle.New(t, "true")
		b.Spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{hook("echo cleanup failed >&2; exit 4")}}
		b.Save(t)
		id := r.id()
		r.ok("create", "--bundle", b.Dir, id)
		res := r.run("delete", id)
		if res.code != 0 {
			t.Fatalf("delete with a failing poststop hook: exit %d, stderr %q; want success", res.code, res.stderr)
		}
		if !strings.Contains(res.stderr, "warning") || !strings.Contains(res.stderr, "poststop") {
			t.Errorf("got stderr %q, want a warning naming the poststop hook", res.stderr)
		}
		requireNothingLeft(t, r, id)
	})
	t.Run("hook that does not read its stdin", func(t *testing.T) {
		r := newRT(t)
		b := testbundle.New(t, "true")
		// A state larger than a pipe's buffer: the runtime's write to the
		// hook's stdin fails with EPIPE once the hook has exited.
		b.Spec.Annotations = map[string]string{"big": strings.Repeat("x", 256<<10)}
		b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{hook("exit 0")}, Poststart: []specs.Hook{hook("exit 0")}}
		b.Save(t)
		if res := r.run("run", "--bundle", b.Dir, r.id()); res.code != 0 {
			t.Errorf("run with hooks that ignore stdin: exit %d, stderr %q", res.code, res.stderr)
		}
	})
}
