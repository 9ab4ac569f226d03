package spec

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestDocFields: Doc has every field of specs.Spec, with the same JSON
// name, but the other platforms' sections.
func TestDocFields(t *testing.T) {
	other := map[string]bool{"Solaris": true, "Windows": true, "VM": true, "ZOS": true, "FreeBSD": true}
	full, doc := reflect.TypeOf(specs.Spec{}), reflect.TypeOf(Doc{})
	for i := 0; i < full.NumField(); i++ {
		f := full.Field(i)
		g, ok := doc.FieldByName(f.Name)
		switch {
		case other[f.Name] && ok:
			t.Errorf("%s: in Doc, want it left out", f.Name)
		case !other[f.Name] && !ok:
			t.Errorf("%s: missing from Doc", f.Name)
		case ok && (g.Tag.Get("json") != f.Tag.Get("json") || g.Type != f.Type):
			t.Errorf("%s: got %s `json:%q`, want %s `json:%q`", f.Name, g.Type, g.Tag.Get("json"), f.Type, f.Tag.Get("json"))
		}
	}
	if got := doc.NumField(); got != full.NumField()-len(other) {
		t.Errorf("got %d fields in Doc, want %d", got, full.NumField()-len(other))
	}
}

func TestDocRoundTrip(t *testing.T) {
	s := &specs.Spec{Version: "1.0.2", Hostname: "h", Process: &specs.Process{Cwd: "/"}, Linux: &specs.Linux{CgroupsPath: "/x"}}
	if got := ToDoc(s).Spec(); !reflect.DeepEqual(got, s) {
		t.Errorf("got %+v, want %+v", got, s)
	}
	if ToDoc(nil) != nil || (*Doc)(nil).Spec() != nil {
		t.Errorf("nil: got a value, want nil")
	}
}
