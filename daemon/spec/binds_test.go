package spec

import (
	"errors"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseBind(t *testing.T) {
	tests := []struct {
		raw  string
		want Bind
		err  string
	}{
		{raw: "/src:/dst", want: Bind{Source: "/src", Destination: "/dst"}},
		{raw: "/src/:/dst/sub/", want: Bind{Source: "/src", Destination: "/dst/sub"}},
		{raw: "/src:/dst:ro", want: Bind{Source: "/src", Destination: "/dst", ReadOnly: true}},
		{raw: "/src:/dst:rw,rshared", want: Bind{Source: "/src", Destination: "/dst", Propagation: mount.PropagationRShared}},
		{raw: "/src:/dst:Z,ro,slave", want: Bind{Source: "/src", Destination: "/dst", ReadOnly: true, Propagation: mount.PropagationSlave}},
		{raw: "/src:/dst:cached", want: Bind{Source: "/src", Destination: "/dst"}},
		{raw: "data:/var/lib/data", want: Bind{Source: "data", Destination: "/var/lib/data", Volume: true}},
		{raw: "data:/var/lib/data:ro,nocopy", want: Bind{Source: "data", Destination: "/var/lib/data", Volume: true, ReadOnly: true, NoCopy: true}},
		{raw: "/anonymous", want: Bind{Destination: "/anonymous", Volume: true}},
		{raw: "", err: "invalid volume specification: ''"},
		{raw: ":/dst", err: "invalid volume specification: ':/dst'"},
		{raw: "/dst:ro", err: "invalid volume specification: '/dst:ro'"},
		{raw: "/a:/b:ro:extra", err: "invalid volume specification: '/a:/b:ro:extra'"},
		{raw: "/src:/dst:rw,ro", err: "invalid mode: rw,ro"},
		{raw: "/src:/dst:bogus", err: "invalid mode: bogus"},
		{raw: "/src:/dst:shared,private", err: "invalid mode: shared,private"},
		{raw: "/src:relative", err: "invalid volume specification: '/src:relative': invalid mount path: 'relative' mount path must be absolute"},
		{raw: "/src:/", err: "invalid volume specification: '/src:/': invalid specification: destination can't be '/'"},
		{raw: "/src:/a/../../etc", err: "invalid volume specification: '/src:/a/../../etc': invalid mount path: '/a/../../etc' must not contain '..'"},
		{raw: "/src:/dst:nocopy", err: `invalid volume specification: '/src:/dst:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified`},
		{raw: "data:/dst:shared", err: `invalid volume specification: 'data:/dst:shared': invalid mount config for type "volume": field BindOptions must not be specified`},
		{raw: "bad$name:/dst", err: `create bad$name: "bad$name" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseBind(tt.raw)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("got error %v, want invalid argument %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestVolumes: without a volume service named volumes are refused as not
// implemented; with one, Generate asks it for each volume, image VOLUMEs
// included, and binds the returned directory.
func TestVolumes(t *testing.T) {
	in := Input{ID: testID, Config: &container.Config{Cmd: []string{"sh"}, Volumes: map[string]struct{}{"/var/lib/db": {}, "/covered": {}}},
		HostConfig: &container.HostConfig{Binds: []string{"cache:/cache:ro", "/srv/data:/covered"}}}
	_, err := Generate(in, WithHost(testHost()))
	if !errors.Is(err, errdefs.ErrNotImplemented) {
		t.Fatalf("got %v, want not implemented", err)
	}
	var asked []string
	r, err := Generate(in, WithHost(testHost()), WithVolumes(func(name, dest string, _ *mount.VolumeOptions) (string, error) {
		asked = append(asked, name+"@"+dest)
		return "/var/lib/berth/volumes/" + name + "/_data", nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cache@/cache", "@/var/lib/db"}; !slices.Equal(asked, want) {
		t.Errorf("got volume requests %v, want %v", asked, want)
	}
	find := func(dest string) specs.Mount {
		for _, m := range r.Spec.Mounts {
			if m.Destination == dest {
				return m
			}
		}
		t.Fatalf("no mount at %s", dest)
		return specs.Mount{}
	}
	if m := find("/cache"); m.Source != "/var/lib/berth/volumes/cache/_data" || !slices.Contains(m.Options, "ro") {
		t.Errorf("got /cache mount %+v, want the volume's directory, read-only", m)
	}
	if m := find("/covered"); m.Source != "/srv/data" {
		t.Errorf("got /covered from %s, want the bind, not an anonymous volume", m.Source)
	}
	// Without a volume service, image VOLUMEs stay in the writable layer.
	r, err = Generate(Input{ID: testID, Config: &container.Config{Cmd: []string{"sh"}, Volumes: map[string]struct{}{"/var/lib/db": {}}}}, WithHost(testHost()))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 {
		t.Errorf("got warnings %q, want one about /var/lib/db", r.Warnings)
	}
}
