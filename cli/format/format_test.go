package format

import (
	"strings"
	"testing"
	"time"
)

func TestHumanSize(t *testing.T) {
	for _, tc := range []struct {
		size   float64
		digits int
		want   string
	}{
		{0, 4, "0B"}, {999, 4, "999B"}, {1000, 4, "1kB"}, {1234, 4, "1.234kB"},
		{1234567, 3, "1.23MB"}, {7_800_000, 3, "7.8MB"}, {1e9, 3, "1GB"}, {123_456_789_012, 4, "123.5GB"},
		{5e27, 3, "5e+03YB"},
	} {
		if got := HumanSizeWithPrecision(tc.size, tc.digits); got != tc.want {
			t.Errorf("HumanSizeWithPrecision(%v, %d): got %q, want %q", tc.size, tc.digits, got, tc.want)
		}
	}
	if got := HumanSize(1_500_000); got != "1.5MB" {
		t.Errorf("HumanSize(1.5e6): got %q, want 1.5MB", got)
	}
	for size, want := range map[float64]string{0: "0B", 1024: "1KiB", 1 << 20: "1MiB", 25_270_000_000: "23.53GiB"} {
		if got := BytesSize(size); got != want {
			t.Errorf("BytesSize(%v): got %q, want %q", size, got, want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"100": 100, "1k": 1024, "1K": 1024, "512m": 512 << 20, "512MB": 512 << 20, "1g": 1 << 30,
		"1.5g": 3 << 29, "2GiB": 2 << 30, "1t": 1 << 40, "4b": 4, " 8m ": 8 << 20,
	} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q): got %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "abc", "-1m", "1x", "Inf", "NaN", "0x10", "1e9", "1..2m", "99999999999999p"} {
		if got, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q): got %d, want an error", in, got)
		} else if !strings.Contains(err.Error(), "invalid size") {
			t.Errorf("ParseBytes(%q): got error %q, want 'invalid size'", in, err)
		}
	}
}

type row struct{ repo, tag string }

func (r row) Repository() string           { return r.repo }
func (r row) Tag() string                  { return r.tag }
func (r row) Label(name string) string     { return name }
func (r row) MarshalJSON() ([]byte, error) { return MarshalFields(r) }

var rowTable = Table{
	Default: "table {{.Repository}}\t{{.Tag}}",
	Headers: map[string]string{"Repository": "REPOSITORY", "Tag": "TAG"},
}

func TestTableWrite(t *testing.T) {
	rows := []any{row{"busybox", "latest"}, row{"a-much-longer-name/here", "v1"}}
	for _, tc := range []struct {
		format, want string
	}{
		{"", "REPOSITORY                TAG\nbusybox                   latest\na-much-longer-name/here   v1\n"},
		{"table", "REPOSITORY                TAG\nbusybox                   latest\na-much-longer-name/here   v1\n"},
		{`table {{.Tag}}\t{{.Repository}}`, "TAG       REPOSITORY\nlatest    busybox\nv1        a-much-longer-name/here\n"},
		{"{{.Repository}}:{{.Tag}}", "busybox:latest\na-much-longer-name/here:v1\n"},
		{`{{.Tag}}\t{{upper .Repository}}`, "latest\tBUSYBOX\nv1\tA-MUCH-LONGER-NAME/HERE\n"},
		{"json", `{"Repository":"busybox","Tag":"latest"}` + "\n" + `{"Repository":"a-much-longer-name/here","Tag":"v1"}` + "\n"},
		{"{{json .Tag}}", "\"latest\"\n\"v1\"\n"},
		{`{{.Label "x"}} {{truncate .Repository 3}} {{join (split .Repository "-") "+"}} {{title "ab cd"}} {{lower "AB"}}|{{pad "x" 1 2}}|`,
			"x bus busybox Ab Cd ab| x  |\nx a-m a+much+longer+name/here Ab Cd ab| x  |\n"},
	} {
		var b strings.Builder
		if err := rowTable.Write(&b, tc.format, rows); err != nil {
			t.Errorf("Write(%q): %v", tc.format, err)
			continue
		}
		if b.String() != tc.want {
			t.Errorf("Write(%q): got\n%q\nwant\n%q", tc.format, b.String(), tc.want)
		}
	}
	for _, bad := range []string{"{{.Nope}}", "{{.Repository", "{{nofunc .Tag}}"} {
		var b strings.Builder
		if err := rowTable.Write(&b, bad, rows); err == nil {
			t.Errorf("Write(%q): got %q, want an error", bad, b.String())
		}
	}
	var b strings.Builder
	if err := rowTable.Write(&b, "", nil); err != nil || b.String() != "REPOSITORY   TAG\n" {
		t.Errorf("Write of no rows: got %q, %v, want the header alone", b.String(), err)
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"512m", "1.5g", "100", "2GiB", "", "NaN", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err == nil && n < 0 {
			t.Fatalf("ParseBytes(%q): got %d, want >= 0", s, n)
		}
	})
}

func TestAgo(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	if got := Ago(now.Add(-3*time.Minute), now); got != "3 minutes ago" {
		t.Errorf("Ago(-3m): got %q, want '3 minutes ago'", got)
	}
	if got := Ago(time.Time{}, now); got != "N/A" {
		t.Errorf("Ago(zero): got %q, want N/A", got)
	}
}
