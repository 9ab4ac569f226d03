package cgroups

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// allowedByRules is the reference meaning of a device list: for each bit
// asked for, the last rule matching the device and holding the bit decides;
// no match denies.
func allowedByRules(rules []devRule, typ byte, major, minor int64, acc uint8) bool {
	for _, bit := range []uint8{accMknod, accRead, accWrite} {
		if acc&bit == 0 {
			continue
		}
		allowed := false
		for i := len(rules) - 1; i >= 0; i-- {
			r := rules[i]
			if r.acc&bit != 0 && (r.typ == 'a' || r.typ == typ) &&
				(r.major == -1 || r.major == major) && (r.minor == -1 || r.minor == minor) {
				allowed = r.allow
				break
			}
		}
		if !allowed {
			return false
		}
	}
	return true
}

// v1Kernel models the v1 devices controller (security/device_cgroup.c): a
// default behaviour plus exceptions; "a" resets both; an entry written to
// the file matching the default removes the access bits of an exactly
// equal exception, one written to the other file adds (merges) one.
type v1Kernel struct {
	allowAll bool
	excs     []exception
}

func (k *v1Kernel) write(t *testing.T, file, line string) {
	t.Helper()
	allowFile := file == "devices.allow"
	if line == "a" {
		k.allowAll, k.excs = allowFile, nil
		return
	}
	var typ byte
	var maj, min, acc string
	if _, err := fmt.Sscanf(strings.Replace(line, ":", " ", 1), "%c %s %s %s", &typ, &maj, &min, &acc); err != nil {
		t.Fatalf("bad v1 line %q: %v", line, err)
	}
	num := func(s string) int64 {
		if s == "*" {
			return -1
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("bad v1 line %q", line)
		}
		return n
	}
	var a uint8
	for _, c := range acc {
		a |= map[rune]uint8{'r': accRead, 'w': accWrite, 'm': accMknod}[c]
	}
	key := devKey{typ, num(maj), num(min)}
	if allowFile != k.allowAll { // an exception
		k.excs = addException(k.excs, key, a)
		return
	}
	kept := k.excs[:0]
	for _, e := range k.excs {
		if e.devKey == key {
			if e.acc &^= a; e.acc == 0 {
				continue
			}
		}
		kept = append(kept, e)
	}
	k.excs = kept
}

func (k *v1Kernel) allowed(typ byte, major, minor int64, acc uint8) bool {
	for _, e := range k.excs {
		if e.typ != typ || (e.major != -1 && e.major != major) || (e.minor != -1 && e.minor != minor) {
			continue
		}
		if k.allowAll && e.acc&acc != 0 {
			return false // a deny exception touching any bit asked for
		}
		if !k.allowAll && acc&^e.acc == 0 {
			return true // one allow exception holding every bit asked for
		}
	}
	return k.allowAll
}

func (k *v1Kernel) apply(t *testing.T, v v1Devices) {
	def, other := "devices.deny", "devices.allow"
	if v.allowAll {
		def, other = other, def
	}
	k.write(t, def, "a")
	for _, e := range v.exceptions {
		k.write(t, other, e)
	}
}

// forGrid calls fn for every device and access combination of the small
// domain the test rules use, plus numbers no rule names.
func forGrid(fn func(typ byte, major, minor int64, acc uint8)) {
	for _, typ := range []byte{'b', 'c'} {
		for _, major := range []int64{1, 5, 7} {
			for _, minor := range []int64{3, 5, 9} {
				for acc := uint8(1); acc <= accAll; acc++ {
					fn(typ, major, minor, acc)
				}
			}
		}
	}
}

func mustRules(t *testing.T, in []specs.LinuxDeviceCgroup) []devRule {
	t.Helper()
	r, err := parseDeviceRules(in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestToV1Devices(t *testing.T) {
	tests := []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		want  v1Devices
	}{
		{"allow list", []specs.LinuxDeviceCgroup{dev("a", -1, -1, "rwm", false), dev("c", 1, 3, "rwm", true), dev("b", 8, -1, "r", true)},
			v1Devices{exceptions: []string{"c 1:3 rwm", "b 8:* r"}}},
		{"nothing matches: deny all", nil, v1Devices{}},
		{"a later deny removes an allow", []specs.LinuxDeviceCgroup{dev("c", 1, 3, "rwm", true), dev("c", 1, 3, "w", false)},
			v1Devices{exceptions: []string{"c 1:3 rm"}}},
		{"a broad deny removes narrower allows", []specs.LinuxDeviceCgroup{dev("c", 1, 3, "rwm", true), dev("c", 1, -1, "rwm", false), dev("c", 5, 0, "rw", true)},
			v1Devices{exceptions: []string{"c 5:0 rw"}}},
		{"type a with numbers is both types", []specs.LinuxDeviceCgroup{dev("a", 7, -1, "m", true)},
			v1Devices{exceptions: []string{"c 7:* m", "b 7:* m"}}},
		{"allow all with holes", []specs.LinuxDeviceCgroup{dev("a", -1, -1, "rwm", true), dev("c", 1, 3, "w", false), dev("b", -1, -1, "m", false)},
			v1Devices{allowAll: true, exceptions: []string{"c 1:3 w", "b *:* m"}}},
		{"overlapping allows get a merged exception", []specs.LinuxDeviceCgroup{dev("c", 1, -1, "r", true), dev("c", -1, 3, "w", true)},
			v1Devices{exceptions: []string{"c 1:* r", "c *:3 w", "c 1:3 rw"}}},
		{"a broad allow lends its bits to a narrower one", []specs.LinuxDeviceCgroup{dev("c", 1, -1, "r", true), dev("c", 1, 3, "w", true)},
			v1Devices{exceptions: []string{"c 1:* r", "c 1:3 rw"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := toV1Devices(mustRules(t, tt.rules))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func randomRules(rng *rand.Rand) []devRule {
	n := 1 + rng.IntN(6)
	rules := make([]devRule, 0, n+1)
	if rng.IntN(2) == 0 {
		rules = append(rules, devRule{typ: 'a', major: -1, minor: -1, acc: accAll, allow: rng.IntN(4) == 0})
	}
	for i := 0; i < n; i++ {
		rules = append(rules, devRule{
			typ:   "abc"[rng.IntN(3)],
			major: []int64{-1, 1, 5}[rng.IntN(3)],
			minor: []int64{-1, 3, 5}[rng.IntN(3)],
			acc:   uint8(1 + rng.IntN(accAll)),
			allow: rng.IntN(2) == 0,
		})
	}
	return rules
}

// Property: whenever v1 can express a list, the kernel model fed with the
// writes agrees with the reference on every device and access combination.
func TestV1DevicesMatchRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	expressed := 0
	for i := 0; i < 3000; i++ {
		rules := randomRules(rng)
		v, err := toV1Devices(rules)
		if err != nil {
			if !strings.Contains(err.Error(), "cgroup v1 cannot express") {
				t.Fatalf("%v: unexpected error %v", rules, err)
			}
			continue
		}
		expressed++
		var k v1Kernel
		k.apply(t, v)
		forGrid(func(typ byte, major, minor int64, acc uint8) {
			want := allowedByRules(rules, typ, major, minor, acc)
			if got := k.allowed(typ, major, minor, acc); got != want {
				t.Fatalf("rules %v → %+v: %c %d:%d acc %d: got allowed=%v, want %v", rules, v, typ, major, minor, acc, got, want)
			}
		})
	}
	if expressed < 1000 {
		t.Errorf("got only %d of 3000 lists expressible, want most of them", expressed)
	}
}

func TestParseDeviceRules(t *testing.T) {
	got := mustRules(t, []specs.LinuxDeviceCgroup{{Allow: true}, dev("b", 8, 0, "mr", false)})
	want := []devRule{{'a', -1, -1, accAll, true}, {'b', 8, 0, accMknod | accRead, false}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []specs.LinuxDeviceCgroup{
		{Type: "u"}, {Access: "x"}, {Major: i64(-2)}, {Minor: i64(1 << 40)},
	} {
		if _, err := parseDeviceRules([]specs.LinuxDeviceCgroup{bad}); err == nil {
			t.Errorf("parseDeviceRules(%+v): got no error", bad)
		}
	}
}
