package container

import (
	"encoding/json"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestInitSpecFields: every field of specs.Spec and specs.Linux reaches
// init, but those init is known not to read. A field added to the
// runtime-spec module fails here until it is sorted into one or the other.
func TestInitSpecFields(t *testing.T) {
	skipped := map[string]bool{
		"Spec.Solaris": true, "Spec.Windows": true, "Spec.VM": true, "Spec.ZOS": true, "Spec.FreeBSD": true,
		"Linux.Resources": true, "Linux.NetDevices": true, "Linux.IntelRdt": true, "Linux.MemoryPolicy": true,
	}
	in := reflect.TypeOf(initSpec{})
	linuxIn := in.Field(in.NumField() - 1).Type.Elem()
	for _, tc := range []struct {
		name     string
		full, in reflect.Type
	}{{"Spec", reflect.TypeOf(specs.Spec{}), in}, {"Linux", reflect.TypeOf(specs.Linux{}), linuxIn}} {
		for i := 0; i < tc.full.NumField(); i++ {
			f := tc.full.Field(i)
			g, ok := tc.in.FieldByName(f.Name)
			key := tc.name + "." + f.Name
			switch {
			case skipped[key] && ok:
				t.Errorf("%s: init gets it, want it skipped (or drop it from the skip list)", key)
			case !skipped[key] && !ok:
				t.Errorf("%s: missing from initSpec; want it carried to init, or listed as skipped", key)
			case ok && g.Tag.Get("json") != f.Tag.Get("json"):
				t.Errorf("%s: got json tag %q, want %q", key, g.Tag.Get("json"), f.Tag.Get("json"))
			}
		}
	}
}

func TestWireSpec(t *testing.T) {
	s := &specs.Spec{
		Version: "1.0.2", Hostname: "h", Root: &specs.Root{Path: "/r"},
		Process: &specs.Process{Args: []string{"sh"}}, Mounts: []specs.Mount{{Destination: "/proc", Type: "proc"}},
		Annotations: map[string]string{"a": "b"},
		Linux: &specs.Linux{
			Sysctl: map[string]string{"k": "v"}, MaskedPaths: []string{"/m"}, RootfsPropagation: "rslave",
			Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false}}},
		},
	}
	data, err := json.Marshal(&initConfig{ID: "x", Wire: wireSpec{s}})
	if err != nil {
		t.Fatal(err)
	}
	var got initConfig
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	g := got.Wire.s
	if g == nil || g.Hostname != "h" || g.Root.Path != "/r" || g.Process.Args[0] != "sh" || len(g.Mounts) != 1 || g.Annotations["a"] != "b" {
		t.Fatalf("got spec %+v, want the fields init reads", g)
	}
	if g.Linux.Sysctl["k"] != "v" || g.Linux.MaskedPaths[0] != "/m" || g.Linux.RootfsPropagation != "rslave" {
		t.Errorf("got linux %+v, want sysctl, masked paths and propagation", g.Linux)
	}
	if g.Linux.Resources != nil {
		t.Errorf("got resources %+v, want them left with the parent", g.Linux.Resources)
	}
}
