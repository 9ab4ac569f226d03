package command

import (
	"errors"
	"strings"
	"testing"
)

type thing struct {
	ID   string `json:"Id"`
	Size int64
}

func TestInspect(t *testing.T) {
	objs := map[string]string{
		"a": `{"Id":"sha256:aaa","Size":1234567,"Extra":{"Deep":"yes"},"Html":"<b>"}`,
		"b": `{"Id":"sha256:bbb","Size":0}`,
	}
	get := func(ref string) (any, []byte, error) {
		raw, ok := objs[ref]
		if !ok {
			return nil, nil, errors.New("Error response from daemon: No such image: " + ref)
		}
		var th thing
		if ref == "a" {
			th = thing{"sha256:aaa", 1234567}
		} else {
			th = thing{"sha256:bbb", 0}
		}
		return th, []byte(raw), nil
	}
	for _, tc := range []struct {
		refs      []string
		format    string
		want, err string
	}{
		{[]string{"a"}, "{{.ID}} {{.Size}} {{gt .Size 0}}", "sha256:aaa 1234567 true\n", ""},
		{[]string{"a", "b"}, "{{.Extra.Deep}}", "yes\n<no value>\n", ""},
		{[]string{"a"}, "{{.Size.X}}", "", "template: "},
		{[]string{"a"}, "{{.Extra.Deep}} {{.Size}} {{json .Html}}", "yes 1234567 \"<b>\"\n", ""},
		{[]string{"a", "zz", "b"}, "{{.ID}}", "sha256:aaa\nsha256:bbb\n", "No such image: zz"},
		{[]string{"b"}, "", "[\n    {\n        \"Id\": \"sha256:bbb\",\n        \"Size\": 0\n    }\n]\n", ""},
		{[]string{"zz"}, "", "[]\n", "No such image: zz"},
		{[]string{"a"}, "{{.ID", "", "Template parsing error"},
	} {
		var b strings.Builder
		err := Inspect(&b, tc.refs, tc.format, get)
		if b.String() != tc.want {
			t.Errorf("Inspect(%v, %q): got output %q, want %q", tc.refs, tc.format, b.String(), tc.want)
		}
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Inspect(%v, %q): got error %v, want %q", tc.refs, tc.format, err, tc.err)
		}
	}
}
