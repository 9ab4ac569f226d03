package spec

import (
	"encoding/json"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	rtseccomp "github.com/berth-dev/berth/runtime/seccomp"
)

// FuzzParseProfile: any profile is refused with an invalid-argument error
// or accepted, and an accepted one expands for any capability set into a
// profile berth-runtime compiles. Seeds: testdata/fuzz/FuzzParseProfile.
func FuzzParseProfile(f *testing.F) {
	def, err := json.Marshal(DefaultProfile())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def, true)
	f.Fuzz(func(t *testing.T, data []byte, sysAdmin bool) {
		p, err := ParseProfile(data)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("got error %v, want an invalid-argument error", err)
			}
			return
		}
		caps := DefaultCapabilities()
		if sysAdmin {
			caps = append(caps, "CAP_SYS_ADMIN")
		}
		for _, h := range []Host{{Arch: "amd64", Kernel: KernelVersion{4, 4}}, {Arch: "arm64"}, {Arch: "s390x"}} {
			sc, err := p.Spec(caps, h)
			if err != nil {
				t.Fatalf("expanding an accepted profile: %v", err)
			}
			if sc == nil || h.Arch != "amd64" {
				continue
			}
			if _, err := rtseccomp.Compile(sc); err != nil && !strings.Contains(err.Error(), "listener") {
				t.Fatalf("accepted profile does not compile: %v\n%s", err, data)
			}
		}
	})
}

// FuzzParseBind: a -v entry is refused with an invalid-argument error or
// yields an absolute, clean destination without "..", and a clean
// absolute source for a bind.
func FuzzParseBind(f *testing.F) {
	for _, s := range []string{"/src:/dst:ro,rshared", "data:/d", "/d", "/a:/b:z,nocopy", ":::", "/a:/../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		b, err := ParseBind(raw)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("got error %v, want an invalid-argument error", err)
			}
			return
		}
		if !strings.HasPrefix(b.Destination, "/") || b.Destination == "/" || strings.Contains("/"+b.Destination+"/", "/../") {
			t.Fatalf("ParseBind(%q): destination %q escapes or is not absolute", raw, b.Destination)
		}
		if !b.Volume && (!path.IsAbs(b.Source) || path.Clean(b.Source) != b.Source) {
			t.Fatalf("ParseBind(%q): bind source %q is not clean and absolute", raw, b.Source)
		}
		// The whole pipeline takes it too (a missing source is recorded,
		// a volume is refused as not implemented).
		_, err = Generate(Input{ID: testID, Config: &container.Config{Cmd: []string{"sh"}}, HostConfig: &container.HostConfig{Binds: []string{raw}}}, WithHost(testHost()))
		if err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) && !errors.Is(err, errdefs.ErrNotImplemented) {
			t.Fatalf("Generate with bind %q: %v", raw, err)
		}
	})
}

// FuzzTmpfsOptions: --tmpfs data is refused with an invalid-argument error
// or merged into options without commas or duplicates of a kind.
func FuzzTmpfsOptions(f *testing.F) {
	for _, s := range []string{"size=64m,mode=1777", "exec,noexec,rw", "uid=0,gid=0,nr_inodes=1k", ",", "mpol=bind:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		m, err := tmpfsMount("/t", data)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("got error %v, want an invalid-argument error", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, o := range m.Options {
			key, isFlag := tmpfsFlagKey(o)
			if !isFlag {
				key, _, _ = strings.Cut(o, "=")
			}
			if seen[key] || strings.Contains(o, ",") {
				t.Fatalf("tmpfs %q: options %q repeat %s", data, m.Options, key)
			}
			seen[key] = true
		}
	})
}
