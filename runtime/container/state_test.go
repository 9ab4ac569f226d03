package container

import "testing"

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"web", true}, {"a_b-c.d+e", true}, {"ABC123", true},
		{"", false}, {".", false}, {"..", false}, {"a/b", false}, {"../x", false},
		{"a b", false}, {"a\x00b", false}, {"é", false},
	} {
		if err := ValidateID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestParseMountOptions(t *testing.T) {
	o, err := parseMountOptions([]string{"ro", "nosuid", "rw", "rprivate", "rro", "mode=755", "size=1m"})
	if err != nil {
		t.Fatal(err)
	}
	if o.flags&0x1 != 0 { // MS_RDONLY cleared by the later "rw"
		t.Errorf("got flags %#x, want MS_RDONLY cleared", o.flags)
	}
	if got, want := o.dataString(), "mode=755,size=1m"; got != want {
		t.Errorf("got data %q, want %q", got, want)
	}
	if len(o.propagation) != 1 || o.attr.set == 0 {
		t.Errorf("got propagation %v attr %+v, want one propagation and a recursive attribute", o.propagation, o.attr)
	}
	if _, err := parseMountOptions([]string{"idmap"}); err == nil {
		t.Error("idmap: got no error, want a clear not-supported error")
	}
}

func FuzzParseMountOptions(f *testing.F) {
	f.Add("ro,nosuid,rbind,rprivate,mode=755")
	f.Add("rro,rnoatime,tmpcopyup,size=1m")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		var opts []string
		start := 0
		for i := 0; i <= len(s); i++ {
			if i == len(s) || s[i] == ',' {
				opts = append(opts, s[start:i])
				start = i + 1
			}
		}
		parseMountOptions(opts) // must not panic
	})
}
