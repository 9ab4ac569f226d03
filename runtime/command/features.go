package command

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/berth-dev/berth/runtime/caps"
	"github.com/berth-dev/berth/runtime/container"
	"github.com/berth-dev/berth/runtime/seccomp"
	"github.com/berth-dev/berth/runtime/spec"
)

func specVersion() string { return specs.Version }

// runFeatures prints what this runtime supports (runtime-spec features.md).
func runFeatures(a *app, args []string) error {
	t := true
	opts := container.MountOptionNames()
	sort.Strings(opts)
	f := features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  opts,
		Linux: &features.Linux{
			Namespaces:   spec.NamespaceTypes(),
			Capabilities: caps.Known(),
			Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: new(bool), SystemdUser: new(bool), Rdma: new(bool)},
			Seccomp: &features.Seccomp{
				Enabled: &t, Actions: seccomp.Actions(), Operators: seccomp.Operators(),
				Archs: seccomp.Archs(), KnownFlags: seccomp.KnownFlags(), SupportedFlags: seccomp.SupportedFlags(),
			},
			Apparmor:        &features.Apparmor{Enabled: &t},
			Selinux:         &features.Selinux{Enabled: &t},
			IntelRdt:        &features.IntelRdt{Enabled: new(bool)},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: new(bool)}},
		},
		Annotations: map[string]string{"org.berth.runtime.version": Version},
	}
	return printJSON(f, true)
}
