package mount

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		in    []string
		flags uintptr
		prop  []uintptr
		data  string
		attr  uint64
	}{
		{nil, 0, nil, "", 0},
		{[]string{"rbind", "ro"}, unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, nil, "", unix.MOUNT_ATTR_RDONLY},
		{[]string{"ro", "rw"}, 0, nil, "", 0},
		{[]string{"nosuid", "nodev", "noatime", "rprivate"}, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOATIME,
			[]uintptr{unix.MS_PRIVATE | unix.MS_REC}, "", unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOATIME},
		{[]string{"index=off", "lowerdir=/a:/b", "upperdir=/u", "ro"}, unix.MS_RDONLY, nil,
			"index=off,lowerdir=/a:/b,upperdir=/u", unix.MOUNT_ATTR_RDONLY},
	}
	for _, tt := range tests {
		o := parseOptions(tt.in)
		if o.flags != tt.flags || !reflect.DeepEqual(o.propagation, tt.prop) || o.dataString() != tt.data || o.mountAttr() != tt.attr {
			t.Errorf("parseOptions(%q): got flags %#x prop %v data %q attr %#x, want %#x %v %q %#x",
				tt.in, o.flags, o.propagation, o.dataString(), o.mountAttr(), tt.flags, tt.prop, tt.data, tt.attr)
		}
	}
}

func TestSplitLowerdirs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"/a", []string{"/a"}},
		{"/a:/b:/c", []string{"/a", "/b", "/c"}},
		{`/a\:b:/c`, []string{"/a:b", "/c"}},
		{`/a\\:/c`, []string{`/a\`, "/c"}},
		{"", []string{""}},
	}
	for _, tt := range tests {
		if got := splitLowerdirs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitLowerdirs(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCommonDir(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"/r/snapshots/1/fs", "/r/snapshots/22/fs", "/r/snapshots/3/work"}, "/r/snapshots"},
		{[]string{"/r/snapshots/1/fs"}, "/r/snapshots/1/fs"},
		{[]string{"/r/ab/1", "/r/abc/2"}, "/r"},
		{[]string{"/a/1", "/b/2"}, ""},
		{[]string{"rel/1", "rel/2"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := commonDir(tt.in); got != tt.want {
			t.Errorf("commonDir(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRelativeOverlayData(t *testing.T) {
	data := []string{"index=off", "lowerdir=/r/s/2/fs:/r/s/1/fs:/r/s/x\\:y/fs", "upperdir=/r/s/3/fs", "workdir=/r/s/3/work"}
	dir, rel, err := relativeOverlayData(data)
	if err != nil {
		t.Fatal(err)
	}
	want := `index=off,lowerdir=2/fs:1/fs:x\:y/fs,upperdir=3/fs,workdir=3/work`
	if dir != "/r/s" || rel != want {
		t.Errorf("got %q %q, want %q %q", dir, rel, "/r/s", want)
	}
	if _, _, err := relativeOverlayData([]string{"lowerdir=/a/1:/b/2"}); err == nil {
		t.Error("got no error for paths with no common directory, want one")
	}
}

func TestUnescapeOctal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/plain", "/plain"},
		{`/with\040space`, "/with space"},
		{`/tab\011and\134slash`, "/tab\tand\\slash"},
		{`/short\04`, `/short\04`},
	}
	for _, tt := range tests {
		if got := unescapeOctal(tt.in); got != tt.want {
			t.Errorf("unescapeOctal(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSplitLowerdirs(f *testing.F) {
	f.Add("/a:/b")
	f.Add(`/a\:b:\\`)
	f.Fuzz(func(t *testing.T, s string) {
		dirs := splitLowerdirs(s)
		esc := make([]string, len(dirs))
		for i, d := range dirs {
			esc[i] = escapeLowerdir(d)
		}
		if again := splitLowerdirs(strings.Join(esc, ":")); !reflect.DeepEqual(again, dirs) {
			t.Errorf("round trip of %q: got %q, want %q", s, again, dirs)
		}
	})
}

func FuzzMountPoint(f *testing.F) {
	f.Add("36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")
	f.Add(`1 2 3 \777 \1`)
	f.Fuzz(func(t *testing.T, line string) {
		mp, ok := mountPoint(line)
		if ok && len(mp) > len(line) {
			t.Errorf("mount point %q longer than its line %q", mp, line)
		}
	})
}

func TestHasLowerdirAdd(t *testing.T) {
	tests := []struct {
		release string
		want    bool
	}{
		{"6.18.44-fc-v657", true}, {"6.8.0-31-generic", true}, {"7.0", true},
		{"6.7.12", false}, {"5.15.0-91-generic", false}, {"", false}, {"garbage", false},
	}
	for _, tt := range tests {
		if got := hasLowerdirAdd(tt.release); got != tt.want {
			t.Errorf("hasLowerdirAdd(%q): got %v, want %v", tt.release, got, tt.want)
		}
	}
}
