package containers

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSetNamespaceAndMountSource(t *testing.T) {
	sp := &specs.Spec{
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace, Path: placeholderNS + "net"},
			{Type: specs.IPCNamespace, Path: placeholderNS + "ipc"}, {Type: specs.PIDNamespace, Path: placeholderNS + "pid"},
		}},
		Mounts: []specs.Mount{{Destination: "/dev/shm", Type: "bind", Source: "/old"}, {Destination: "/etc/hosts", Type: "bind", Source: "/h"}},
	}
	setNamespace(sp, specs.NetworkNamespace, 42)
	setNamespace(sp, specs.PIDNamespace, 7)
	setMountSource(sp, "/dev/shm", "/new")
	tests := []struct{ got, want string }{
		{sp.Linux.Namespaces[0].Path, ""},
		{sp.Linux.Namespaces[1].Path, "/proc/42/ns/net"},
		{sp.Linux.Namespaces[2].Path, placeholderNS + "ipc"},
		{sp.Linux.Namespaces[3].Path, "/proc/7/ns/pid"},
		{sp.Mounts[0].Source, "/new"},
		{sp.Mounts[1].Source, "/h"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%d: got %q, want %q", i, tc.got, tc.want)
		}
	}
}
