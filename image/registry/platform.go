package registry

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// SelectPlatform picks the manifest for p from an OCI index or Docker
// manifest list. An empty OS means linux, an empty architecture the host's,
// an empty variant the architecture's usual one (arm64: v8, arm: v7).
// Older variants of arm run on newer ones, so linux/arm/v7 takes a v6
// manifest when there is no v7; an exact match always wins. Entries without
// a platform or with os "unknown" (attestations) are never chosen. When
// nothing matches, the error (errdefs.ErrNotFound) lists what the index has.
func SelectPlatform(index []byte, p ocispec.Platform) (ocispec.Descriptor, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(index, &idx); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("parse index: %w", invalid(err))
	}
	want := normalizePlatform(p, true)
	best, bestScore := -1, 0
	var available []string
	for i, m := range idx.Manifests {
		if m.Platform == nil || m.Platform.OS == "unknown" || !IsManifest(m.MediaType) && m.MediaType != "" {
			continue
		}
		have := normalizePlatform(*m.Platform, false)
		available = append(available, FormatPlatform(*m.Platform))
		if s := matchScore(want, have); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best < 0 {
		sort.Strings(available)
		list := strings.Join(dedupe(available), ", ")
		if list == "" {
			list = "none"
		}
		return ocispec.Descriptor{}, fmt.Errorf("no manifest for platform %s in the index (available: %s): %w",
			FormatPlatform(want), list, errdefs.ErrNotFound)
	}
	d := idx.Manifests[best]
	if err := d.Digest.Validate(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("index entry for %s: %w", FormatPlatform(want), invalid(err))
	}
	if d.Size < 0 || d.Size > MaxManifestSize {
		return ocispec.Descriptor{}, fmt.Errorf("index entry for %s has size %d: %w", FormatPlatform(want), d.Size, errdefs.ErrInvalidArgument)
	}
	return d, nil
}

// FormatPlatform returns "os/arch[/variant]".
func FormatPlatform(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// normalizePlatform lower-cases a platform, maps aliases (x86_64, aarch64,
// armhf…) to Go's architecture names and fills default variants. For a
// wanted platform it also fills the host's OS and architecture.
func normalizePlatform(p ocispec.Platform, wanted bool) ocispec.Platform {
	p.OS = strings.ToLower(p.OS)
	p.Architecture = strings.ToLower(p.Architecture)
	p.Variant = strings.ToLower(p.Variant)
	if wanted {
		if p.OS == "" {
			p.OS = "linux"
		}
		if p.Architecture == "" {
			p.Architecture = runtime.GOARCH
		}
	}
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	case "i386", "i686":
		p.Architecture = "386"
	}
	switch p.Architecture {
	case "arm64":
		if p.Variant == "" || p.Variant == "8" {
			p.Variant = "v8"
		}
	case "arm":
		if p.Variant == "" {
			p.Variant = "v7"
		} else if !strings.HasPrefix(p.Variant, "v") {
			p.Variant = "v" + p.Variant
		}
	case "amd64":
		if p.Variant == "v1" {
			p.Variant = ""
		}
	}
	return p
}

// matchScore is 0 when have cannot run where want is asked, higher for
// better matches: an exact variant beats an older compatible one.
func matchScore(want, have ocispec.Platform) int {
	if want.OS != have.OS || want.Architecture != have.Architecture {
		return 0
	}
	if want.Variant == have.Variant {
		return 100
	}
	if want.Architecture == "arm" {
		w, h := armLevel(want.Variant), armLevel(have.Variant)
		if h > 0 && w > 0 && h < w {
			return 10 + h
		}
	}
	return 0
}

func armLevel(v string) int {
	switch v {
	case "v5":
		return 5
	case "v6":
		return 6
	case "v7":
		return 7
	case "v8":
		return 8
	}
	return 0
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
