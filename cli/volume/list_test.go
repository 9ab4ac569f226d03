package volume

import (
	"bytes"
	"testing"

	"github.com/moby/moby/api/types/volume"

	"github.com/berth-dev/berth/cli/command"
)

func TestWriteVolumes(t *testing.T) {
	vols := []volume.Volume{
		{Name: "zeta", Driver: "local", Scope: "local", Labels: map[string]string{"b": "2", "a": "1"}},
		{Name: "alpha", Driver: "local", Scope: "local", UsageData: &volume.UsageData{Size: 2048, RefCount: 3}},
	}
	for _, tc := range []struct {
		format, want string
	}{
		{"", "DRIVER    VOLUME NAME\nlocal     alpha\nlocal     zeta\n"},
		{"{{.Name}}", "alpha\nzeta\n"},
		{"table {{.Name}}\t{{.Labels}}", "VOLUME NAME   LABELS\nalpha         \nzeta          a=1,b=2\n"},
		{"{{.Name}} {{.Links}} {{.Size}} {{.Label \"b\"}}", "alpha 3 2.05kB \nzeta N/A N/A 2\n"},
		{"json", `{"CreatedAt":"","Driver":"local","Labels":"","Links":"3","Mountpoint":"","Name":"alpha","Scope":"local","Size":"2.05kB"}` + "\n" +
			`{"CreatedAt":"","Driver":"local","Labels":"a=1,b=2","Links":"N/A","Mountpoint":"","Name":"zeta","Scope":"local","Size":"N/A"}` + "\n"},
	} {
		var buf bytes.Buffer
		if err := writeVolumes(command.NewOut(&buf), append([]volume.Volume{}, vols...), tc.format); err != nil {
			t.Errorf("format %q: %v", tc.format, err)
			continue
		}
		if got := buf.String(); got != tc.want {
			t.Errorf("format %q: got\n%q\nwant\n%q", tc.format, got, tc.want)
		}
	}
}
