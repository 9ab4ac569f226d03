package cni

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

// fakePlugin writes a shell plugin that logs "COMMAND NAME" and its
// stdin to log, then prints out (ADD) or exits with code and out.
func fakePlugin(t *testing.T, dir, name, log, out string, code int) {
	t.Helper()
	script := "#!/bin/sh\nin=$(cat)\necho \"$CNI_COMMAND " + name + " $CNI_IFNAME $CNI_CONTAINERID\" >> " + log +
		"\nprintf '%s\\n' \"$in\" >> " + log + "\n"
	if code != 0 {
		script += "printf '%s' '" + out + "'\nexit " + itoa(code) + "\n"
	} else {
		script += "if [ \"$CNI_COMMAND\" = ADD ]; then printf '%s' '" + out + "'; fi\n"
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// logLines are the "COMMAND NAME …" lines and the stdin documents.
func logLines(t *testing.T, log string) (cmds []string, stdins []map[string]json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "{") {
			var m map[string]json.RawMessage
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("stdin %q: %v", line, err)
			}
			stdins = append(stdins, m)
			continue
		}
		cmds = append(cmds, line)
	}
	return cmds, stdins
}

const (
	resultA = `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/x"}],"ips":[{"address":"10.1.0.2/24","gateway":"10.1.0.1","interface":0}],"dns":{"nameservers":["10.1.0.1"]}}`
	resultB = `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/x"}],"ips":[{"address":"10.1.0.2/24","gateway":"10.1.0.1","interface":0}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.1.0.1","not-an-ip"]}}`
)

func newFake(t *testing.T) (r *Runner, bin, log string) {
	t.Helper()
	bin = t.TempDir()
	log = filepath.Join(t.TempDir(), "log")
	r, err := New(Options{Path: []string{filepath.Join(bin, "missing"), bin}, CacheDir: filepath.Join(t.TempDir(), "cache"), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r, bin, log
}

func TestChainAndCache(t *testing.T) {
	r, bin, log := newFake(t)
	fakePlugin(t, bin, "a", log, resultA, 0)
	fakePlugin(t, bin, "b", log, resultB, 0)
	l, err := ParseList([]byte(`{"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"a","x":1},{"type":"b","capabilities":{"portMappings":true}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a := Attachment{ContainerID: "c1", NetNS: "/proc/self/ns/net", IfName: "eth0",
		PortMappings: []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}}
	res, err := r.Add(context.Background(), l, a)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Addresses("eth0"); len(got) != 1 || got[0].Address.String() != "10.1.0.2/24" {
		t.Errorf("got addresses %v, want 10.1.0.2/24", got)
	}
	if got := res.Nameservers(); len(got) != 1 || got[0].String() != "10.1.0.1" {
		t.Errorf("got nameservers %v, want [10.1.0.1]", got)
	}
	if got := len(res.Routes); got != 1 {
		t.Errorf("got %d routes, want 1 (b's result is the attachment's)", got)
	}
	cached, err := r.Attached()
	if err != nil || len(cached) != 1 || !cached[0].Done || cached[0].Network != "net1" {
		t.Fatalf("got cache %+v %v, want one finished net1 attachment", cached, err)
	}
	if err := r.Check(context.Background(), l, a); err != nil {
		t.Fatal(err)
	}
	// A changed configuration does not change what DEL runs.
	l2, _ := ParseList([]byte(`{"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"other"}]}`))
	if err := r.Del(context.Background(), l2, Attachment{ContainerID: "c1", IfName: "eth0"}); err != nil {
		t.Fatal(err)
	}
	cmds, stdins := logLines(t, log)
	want := []string{"ADD a eth0 c1", "ADD b eth0 c1", "CHECK a eth0 c1", "CHECK b eth0 c1", "DEL b eth0 c1", "DEL a eth0 c1"}
	if strings.Join(cmds, "|") != strings.Join(want, "|") {
		t.Errorf("got calls %q, want %q", cmds, want)
	}
	if len(stdins) != 6 {
		t.Fatalf("got %d stdins, want 6", len(stdins))
	}
	for i, s := range stdins {
		if string(s["name"]) != `"net1"` || string(s["cniVersion"]) != `"1.0.0"` {
			t.Errorf("call %d: got name %s version %s, want the list's", i, s["name"], s["cniVersion"])
		}
		_, hasRC := s["runtimeConfig"]
		if isB := strings.Contains(cmds[i], " b "); hasRC != isB {
			t.Errorf("call %q: got runtimeConfig %v, want it for b only", cmds[i], hasRC)
		}
	}
	if _, ok := stdins[0]["prevResult"]; ok {
		t.Error("first ADD got a prevResult")
	}
	if got := compact(t, stdins[1]["prevResult"]); got != compact(t, json.RawMessage(resultA)) {
		t.Errorf("b's prevResult: got %s, want a's result", got)
	}
	for _, i := range []int{2, 3, 4, 5} {
		if got := compact(t, stdins[i]["prevResult"]); got != compact(t, json.RawMessage(resultB)) {
			t.Errorf("%s prevResult: got %s, want the cached result", cmds[i], got)
		}
	}
	if got := string(stdins[1]["runtimeConfig"]); got != `{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}` {
		t.Errorf("got runtimeConfig %s", got)
	}
	if cached, _ := r.Attached(); len(cached) != 0 {
		t.Errorf("got cache %+v after DEL, want none", cached)
	}
	// DEL again: nothing cached, the given list's plugins run (the
	// spec's DEL is idempotent).
	if err := r.Del(context.Background(), l, Attachment{ContainerID: "c1", IfName: "eth0"}); err != nil {
		t.Errorf("second DEL: %v", err)
	}
	if cmds, _ := logLines(t, log); len(cmds) != 8 || cmds[6] != "DEL b eth0 c1" {
		t.Errorf("got calls %q, want two more DELs", cmds)
	}
}

func compact(t *testing.T, b json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func TestAddFailureUndoes(t *testing.T) {
	r, bin, log := newFake(t)
	fakePlugin(t, bin, "a", log, resultA, 0)
	fakePlugin(t, bin, "bad", log, `{"cniVersion":"1.0.0","code":7,"msg":"no subnet","details":"ipam"}`, 1)
	l, _ := ParseList([]byte(`{"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"a"},{"type":"bad"}]}`))
	_, err := r.Add(context.Background(), l, Attachment{ContainerID: "c1", NetNS: "/proc/self/ns/net", IfName: "eth0"})
	var pe *PluginError
	if !errors.As(err, &pe) || pe.Plugin != "bad" || pe.Code != 7 || pe.Command != "ADD" {
		t.Fatalf("got %v, want a PluginError of bad ADD code 7", err)
	}
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("got %v, want invalid argument", err)
	}
	if want := "cni network net1: plugin bad ADD: no subnet: ipam (code 7)"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	cmds, _ := logLines(t, log)
	if want := "ADD a eth0 c1|ADD bad eth0 c1|DEL bad eth0 c1|DEL a eth0 c1"; strings.Join(cmds, "|") != want {
		t.Errorf("got %q, want %q", cmds, want)
	}
}

func TestErrors(t *testing.T) {
	r, bin, _ := newFake(t)
	os.WriteFile(filepath.Join(bin, "slow"), []byte("#!/bin/sh\nexec sleep 30\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "crash"), []byte("#!/bin/sh\necho boom >&2\nexit 3\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "garbage"), []byte("#!/bin/sh\necho '{\"ips\":[{\"address\":\"x\"}]}'\n"), 0o755)
	r.o.Timeout = 300 * time.Millisecond
	tests := []struct{ typ, want string }{
		{"nosuch", "cni network n: cni plugin nosuch not found in "},
		{"slow", "cni network n: plugin slow ADD: context deadline exceeded (timeout 300ms)"},
		{"crash", "cni network n: plugin crash ADD: exit status 3: boom (code 0)"},
		{"garbage", `cni network n: plugin garbage ADD: parse cni result: address "x"`},
	}
	for _, tc := range tests {
		l, err := ParseList([]byte(`{"cniVersion":"1.0.0","name":"n","type":"` + tc.typ + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Add(context.Background(), l, Attachment{ContainerID: "c", NetNS: "/proc/self/ns/net", IfName: "eth0"})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q…", tc.typ, err, tc.want)
		}
	}
}

// TestDelOtherNamespace: a DEL whose namespace path names another
// namespace than ADD's (the process ended, the path is another's now)
// runs without CNI_NETNS, so the plugins touch no other container.
func TestDelOtherNamespace(t *testing.T) {
	r, bin, _ := newFake(t)
	envLog := filepath.Join(t.TempDir(), "env")
	script := "#!/bin/sh\ncat >/dev/null\necho \"$CNI_COMMAND [$CNI_NETNS]\" >> " + envLog +
		"\nif [ \"$CNI_COMMAND\" = ADD ]; then printf '%s' '" + resultA + "'; fi\n"
	os.WriteFile(filepath.Join(bin, "envp"), []byte(script), 0o755)
	l, _ := ParseList([]byte(`{"cniVersion":"1.0.0","name":"n","type":"envp"}`))
	pid := itoa(os.Getpid())
	for _, tc := range []struct{ del, want string }{
		{"/proc/self/ns/net", "DEL [/proc/" + pid + "/ns/net]"},
		{"/proc/self/ns/uts", "DEL []"}, // another namespace now
	} {
		os.Remove(envLog)
		a := Attachment{ContainerID: "c", NetNS: "/proc/self/ns/net", IfName: "eth0"}
		if _, err := r.Add(context.Background(), l, a); err != nil {
			t.Fatal(err)
		}
		a.NetNS = tc.del
		if err := r.Del(context.Background(), l, a); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(envLog)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if want := "ADD [/proc/" + pid + "/ns/net]"; lines[0] != want || lines[len(lines)-1] != tc.want {
			t.Errorf("got %q, want %q then %q", lines, want, tc.want)
		}
	}
}
