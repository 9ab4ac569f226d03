package spec

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"1.0.0", true}, {"1.0.2-dev", true}, {"1.1.0", true}, {"1.2.0", true}, {"1.3.0", true}, {"1.9.9-rc.1", true},
		{"2.0.0", false}, {"0.5.0", false}, {"", false}, {"one", false}, {"1", false}, {"1.x", false},
	} {
		err := CheckVersion(tc.v)
		if (err == nil) != tc.ok {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v", tc.v, err, tc.ok)
		}
	}
}

func TestDefaultValidates(t *testing.T) {
	s := Default()
	if err := Validate(s); err != nil {
		t.Fatalf("default spec: %v", err)
	}
	Rootless(s)
	if err := Validate(s); err != nil {
		t.Fatalf("rootless spec: %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	for _, tc := range []struct {
		name, patch, want string
	}{
		{"no root", `{"root":null}`, "root.path"},
		{"no process", `{"process":null}`, "process is missing"},
		{"relative cwd", `{"process":{"args":["sh"],"cwd":"tmp"}}`, "not absolute"},
		{"bad ns", `{"linux":{"namespaces":[{"type":"bogus"}]}}`, "unknown namespace type"},
		{"dup ns", `{"linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}}`, "listed twice"},
		{"userns without maps", `{"linux":{"namespaces":[{"type":"user"}]}}`, "needs linux.uidMappings"},
		{"maps without userns", `{"linux":{"uidMappings":[{"containerID":0,"hostID":1000,"size":1}]}}`, "no user namespace"},
		{"zero map", `{"linux":{"namespaces":[{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":1000,"size":0}],"gidMappings":[{"containerID":0,"hostID":1000,"size":1}]}}`, "size is 0"},
		{"bad rlimit", `{"process":{"args":["sh"],"cwd":"/","rlimits":[{"type":"RLIMIT_BOGUS","hard":1,"soft":1}]}}`, "unknown type"},
		{"v2", `{"ociVersion":"2.0.0"}`, "not supported"},
		{"propagation", `{"linux":{"rootfsPropagation":"weird"}}`, "rootfsPropagation"},
		{"host sysctl", `{"linux":{"sysctl":{"vm.swappiness":"10"}}}`, "not namespaced"},
		{"net sysctl without netns", `{"linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"}],"sysctl":{"net.ipv4.ip_forward":"1"}}}`, "needs a network namespace"},
		{"sysctl path", `{"linux":{"sysctl":{"net/../../x":"1"}}}`, "invalid key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, _ := json.Marshal(Default())
			var m map[string]any
			json.Unmarshal(base, &m)
			var p map[string]any
			if err := json.Unmarshal([]byte(tc.patch), &p); err != nil {
				t.Fatal(err)
			}
			for k, v := range p {
				if sub, ok := v.(map[string]any); ok && k == "linux" {
					lm := m["linux"].(map[string]any)
					for kk, vv := range sub {
						lm[kk] = vv
					}
					continue
				}
				m[k] = v
			}
			data, _ := json.Marshal(m)
			_, err := Parse(data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	base, _ := json.Marshal(Default())
	f.Add(base)
	f.Add([]byte(`{"ociVersion":"1.0.2-dev"}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse(data) // must not panic
	})
}
