package runtime_test

// Bad input: every refusal is one clear line on stderr and the same
// message as the last "msg" of a JSON --log, a non-zero exit, and nothing
// left behind: no state directory, cgroup, host mount or process.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/internal/testbundle"
)

// refusal checks a failed command: exit, one line on stderr containing
// want, and the same message as the last entry of the JSON log.
func refusal(t *testing.T, res result, logFile, want string) {
	t.Helper()
	if res.code == 0 {
		t.Fatalf("exit 0, want a failure mentioning %q; stdout %q", want, res.stdout)
	}
	line := strings.TrimSuffix(res.stderr, "\n")
	if line == "" || strings.Contains(line, "\n") || !strings.HasPrefix(line, "berth-runtime: ") {
		t.Errorf("stderr: got %q, want one line starting with berth-runtime:", res.stderr)
	}
	if !strings.Contains(line, want) {
		t.Errorf("stderr: got %q, want %q in it", line, want)
	}
	if strings.Contains(strings.ToLower(line), "panic") || strings.Contains(line, "goroutine ") {
		t.Errorf("stderr looks like a crash: %q", line)
	}
	if logFile == "" {
		return
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("read log: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var last struct{ Level, Msg, Time string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("log's last line %q is not JSON: %v", lines[len(lines)-1], err)
	}
	if last.Level != "error" || last.Time == "" || "berth-runtime: "+last.Msg != line {
		t.Errorf("log's last entry: got %+v, want level error and msg %q", last, strings.TrimPrefix(line, "berth-runtime: "))
	}
}

// requireNothingOf checks that nothing is left of a failed create of id
// from bundle dir, whose stdio was outPath and errPath.
func requireNothingOf(t *testing.T, r *rt, id, bundle string, stdio ...string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(r.root, id)); err == nil {
		t.Errorf("state dir %s left", filepath.Join(r.root, id))
	}
	if ents, _ := os.ReadDir(r.root); len(ents) != 0 {
		t.Errorf("--root holds %d entries, want none", len(ents))
	}
	requireNoCgroup(t, id)
	if m := hostMountsNaming(t, bundle); len(m) > 0 {
		t.Errorf("host mounts left: %q", m)
	}
	for _, f := range stdio {
		if h := fdHolders(f); len(h) > 0 {
			t.Errorf("processes %v left holding %s", h, f)
		}
	}
}

func TestBadBundle(t *testing.T) {
	type mutate func(t *testing.T, b *testbundle.Bundle)
	many := make([]specs.LinuxIDMapping, 341) // the kernel takes at most 340 extents
	for i := range many {
		many[i] = specs.LinuxIDMapping{ContainerID: uint32(i), HostID: uint32(100000 + i), Size: 1}
	}
	for _, tc := range []struct {
		name  string
		edit  mutate
		flags []string // global flags
		want  string
	}{
		{"malformed config", func(t *testing.T, b *testbundle.Bundle) {
			os.WriteFile(filepath.Join(b.Dir, "config.json"), []byte(`{"ociVersion": "1.0.2", "process": {`), 0o644)
		}, nil, "config.json"},
		{"config not an object", func(t *testing.T, b *testbundle.Bundle) {
			os.WriteFile(filepath.Join(b.Dir, "config.json"), []byte(`[1,2,3]`), 0o644)
		}, nil, "config.json"},
		{"missing config", func(t *testing.T, b *testbundle.Bundle) {
			os.Remove(filepath.Join(b.Dir, "config.json"))
		}, nil, "config.json"},
		{"missing rootfs", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Root.Path = "no-such-rootfs"
			b.Save(t)
		}, nil, "no-such-rootfs"},
		{"rootfs is a file", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Root.Path = "config.json"
			b.Save(t)
		}, nil, "not a directory"},
		{"unknown namespace", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
			b.Save(t)
		}, nil, `unknown namespace type "bogus"`},
		{"mappings without userns", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			b.Spec.Linux.GIDMappings = b.Spec.Linux.UIDMappings
			b.Save(t)
		}, nil, "no user namespace"},
		{"zero-size mapping", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 0}}
			b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1}}
			b.Save(t)
		}, nil, "uidMappings[0]: size is 0"},
		{"overlapping mappings", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 10}, {ContainerID: 5, HostID: 200000, Size: 10}}
			b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1}}
			b.Save(t)
		}, nil, "overlaps"},
		// Valid JSON the kernel would refuse deep inside clone.
		{"too many mapping extents", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			b.Spec.Linux.UIDMappings = many
			b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			b.Save(t)
		}, nil, "linux.uidMappings: 341 entries"},
		{"missing executable", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Process.Args = []string{"/no/such/program"}
			b.Save(t)
		}, nil, "/no/such/program"},
		{"command not in PATH", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Process.Args = []string{"nosuchcommand"}
			b.Save(t)
		}, nil, "executable file not found"},
		{"relative cwd", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Process.Cwd = "tmp"
			b.Save(t)
		}, nil, `cwd "tmp" is not absolute`},
		{"empty args", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Process.Args = nil
			b.Save(t)
		}, nil, "process.args"},
		{"ociVersion 2", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Version = "2.0.0"
			b.Save(t)
		}, nil, "2.0.0"},
		{"missing bind source", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: "/no/such/source", Options: []string{"rbind"}})
			b.Save(t)
		}, nil, "/no/such/source"},
		{"unknown mount option", func(t *testing.T, b *testbundle.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "frobnicate"}})
			b.Save(t)
		}, nil, "/data"},
		{"systemd cgroup", func(t *testing.T, b *testbundle.Bundle) {}, []string{"--systemd-cgroup"}, "not supported yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := testbundle.New(t, "/observer", "sleep")
			tc.edit(t, b)
			id := r.id()
			logFile := filepath.Join(t.TempDir(), "log.json")
			for _, verb := range []string{"create", "run"} {
				args := append(append([]string{"--log", logFile, "--log-format", "json"}, tc.flags...), verb, "--bundle", b.Dir, id)
				res, out, errf := r.invoke(rtCall{args: args})
				refusal(t, res, logFile, tc.want)
				requireNothingOf(t, r, id, b.Dir, out, errf)
			}
		})
	}
}

// TestBadID: ids that could name a path outside --root, or clash.
func TestBadID(t *testing.T) {
	r := newRT(t)
	b := testbundle.New(t, "/observer", "sleep")
	outside := filepath.Join(filepath.Dir(r.root), "escaped")
	for _, id := range []string{"a/b", "..", ".", "../escaped", "x/../../escaped", "", "a b", "a:b", strings.Repeat("x", 2000)} {
		res := r.run("create", "--bundle", b.Dir, id)
		refusal(t, res, "", "container id")
		for _, verb := range [][]string{{"state"}, {"start"}, {"kill"}, {"delete"}, {"delete", "--force"}, {"pause"}, {"exec"}, {"ps"}, {"events", "--stats"}, {"update", "--memory", "1m"}} {
			args := append(append([]string{}, verb...), id)
			if verb[0] == "exec" {
				args = append(args, "true")
			}
			res := r.run(args...)
			if res.code == 0 && !(verb[0] == "delete" && len(verb) == 2) {
				t.Errorf("%v with id %q: exit 0, want a refusal", verb, id)
			}
		}
		if _, err := os.Lstat(outside); err == nil {
			t.Fatalf("id %q wrote %s, outside --root", id, outside)
		}
		if ents, _ := os.ReadDir(r.root); len(ents) != 0 {
			t.Errorf("id %q left %d entries in --root", id, len(ents))
		}
	}
}

// TestBadLifecycle: verbs used out of order, or on a missing container,
// fail clearly and leave the container as it was.
func TestBadLifecycle(t *testing.T) {
	r := newRT(t)
	logFile := filepath.Join(t.TempDir(), "log.json")
	logged := func(args ...string) result {
		return r.run(append([]string{"--log", logFile, "--log-format", "json"}, args...)...)
	}
	for _, verb := range [][]string{{"state"}, {"start"}, {"kill"}, {"delete"}, {"pause"}, {"resume"}, {"exec"}, {"ps"}, {"events", "--stats"}, {"update", "--pids-limit", "5"}} {
		args := append(append([]string{}, verb...), "no-such-container")
		if verb[0] == "exec" {
			args = append(args, "true")
		}
		t.Run("unknown id/"+verb[0], func(t *testing.T) {
			refusal(t, logged(args...), logFile, "container no-such-container does not exist")
		})
	}

	b := testbundle.New(t, "/observer", "sleep")
	c := r.createLive(b)
	t.Run("duplicate id", func(t *testing.T) {
		res, out, errf := r.invoke(rtCall{args: []string{"--log", logFile, "--log-format", "json", "create", "--bundle", b.Dir, c.id}})
		refusal(t, res, logFile, "already exists")
		if h := fdHolders(out); len(h) > 0 {
			t.Errorf("the refused create left processes %v", h)
		}
		_ = errf
		st := r.state(c.id)
		if st["status"] != "created" || int(st["pid"].(float64)) != c.pid {
			t.Errorf("the first container changed: got %v, want created with pid %d", st, c.pid)
		}
	})
	r.ok("start", c.id)
	t.Run("double start", func(t *testing.T) {
		refusal(t, logged("start", c.id), logFile, "already running")
	})
	t.Run("delete running", func(t *testing.T) {
		refusal(t, logged("delete", c.id), logFile, "not stopped")
		if st := r.state(c.id)["status"]; st != "running" {
			t.Errorf("after refused delete: status %v, want running", st)
		}
	})
	t.Run("resume running", func(t *testing.T) {
		refusal(t, logged("resume", c.id), logFile, "not paused")
	})
	t.Run("bad signal", func(t *testing.T) {
		refusal(t, logged("kill", c.id, "SIGNOPE"), logFile, "SIGNOPE")
		refusal(t, logged("kill", c.id, "99"), logFile, "99")
	})
	r.ok("kill", c.id, "KILL")
	waitStatus(t, r, c.id, "stopped")
	t.Run("kill after exit", func(t *testing.T) {
		refusal(t, logged("kill", c.id, "TERM"), logFile, "not running")
	})
	t.Run("start after exit", func(t *testing.T) {
		refusal(t, logged("start", c.id), logFile, "stopped")
	})
	t.Run("pause after exit", func(t *testing.T) {
		refusal(t, logged("pause", c.id), logFile, "stopped")
	})
	t.Run("update after exit", func(t *testing.T) {
		refusal(t, logged("update", "--pids-limit", "5", c.id), logFile, "stopped")
	})
	t.Run("bad flags", func(t *testing.T) {
		refusal(t, logged("create", "--no-such-flag", c.id), logFile, "no-such-flag")
		refusal(t, logged("frobnicate"), logFile, "frobnicate")
		refusal(t, logged("ps", "--format", "yaml", c.id), logFile, "yaml")
		refusal(t, logged("list", "--format", "yaml"), logFile, "yaml")
		refusal(t, r.run("--log-format", "xml", "list"), "", "xml")
	})
	c.deleteAndCheck()
}
