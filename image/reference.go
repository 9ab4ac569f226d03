package image

import (
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
)

// dockerHub is the registry a reference without a domain names, as Docker
// writes it (also spelt index.docker.io).
const dockerHub = "docker.io"

// Reference is a normalised image reference: a repository with a domain,
// and a tag, a digest, or both.
type Reference struct {
	Repository string // e.g. docker.io/library/busybox
	Tag        string // empty when only a digest is given
	Digest     string // e.g. sha256:…, or empty
}

// ParseReference normalises a user's image reference as Docker does:
// "busybox" is docker.io/library/busybox:latest, a reference without a
// tag or digest gets "latest". The grammar is Docker's (distribution's
// reference grammar): [domain/]path[:tag][@digest].
func ParseReference(s string) (Reference, error) {
	ref, err := parseReference(s)
	if err != nil {
		return Reference{}, fmt.Errorf("invalid reference format %q: %s: %w", s, err, errdefs.ErrInvalidArgument)
	}
	return ref, nil
}

func parseReference(s string) (Reference, error) {
	var ref Reference
	rest, dgst, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		if err := checkDigest(dgst); err != nil {
			return ref, err
		}
		ref.Digest = dgst
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		ref.Tag, rest = rest[i+1:], rest[:i]
		if !validTag(ref.Tag) {
			return ref, errors.New("invalid tag")
		}
	}
	domain, path := dockerHub, rest
	if first, after, ok := strings.Cut(rest, "/"); ok && (strings.ContainsAny(first, ".:[") || first == "localhost" || strings.ToLower(first) != first) {
		domain, path = first, after
		if !validDomain(domain) {
			return ref, fmt.Errorf("invalid domain %q", domain)
		}
	}
	if domain == "index.docker.io" {
		domain = dockerHub
	}
	if domain == dockerHub && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	for _, c := range strings.Split(path, "/") {
		if !validPathComponent(c) {
			if strings.ToLower(c) != c {
				return ref, errors.New("repository name must be lowercase")
			}
			return ref, fmt.Errorf("invalid path component %q", c)
		}
	}
	ref.Repository = domain + "/" + path
	if len(ref.Repository) > 255 {
		return ref, errors.New("repository name must not be more than 255 characters")
	}
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = "latest"
	}
	return ref, nil
}

// checkDigest accepts algorithm:hex digests, with sha256's length checked.
func checkDigest(d string) error {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || alg == "" || len(hex) < 32 || strings.Trim(hex, "0123456789abcdef") != "" || strings.Trim(alg, "abcdefghijklmnopqrstuvwxyz0123456789+._-") != "" {
		return fmt.Errorf("invalid digest %q", d)
	}
	if alg == "sha256" && len(hex) != 64 {
		return fmt.Errorf("invalid sha256 digest %q", d)
	}
	return nil
}

// validTag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for _, c := range t {
		if !isAlnum(c) && !strings.ContainsRune("_.-", c) && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// validDomain: dot-separated components of letters, digits and inner
// hyphens, or a bracketed IPv6 address; then an optional :port.
func validDomain(d string) bool {
	host, port, hasPort := d, "", false
	if strings.HasPrefix(d, "[") {
		end := strings.Index(d, "]")
		if end < 2 || strings.Trim(d[1:end], "0123456789abcdefABCDEF:.") != "" {
			return false
		}
		host = d[:end+1]
		if rest := d[end+1:]; rest != "" {
			port, hasPort = strings.CutPrefix(rest, ":")
			if !hasPort {
				return false
			}
		}
	} else {
		host, port, hasPort = strings.Cut(d, ":")
		for _, c := range strings.Split(host, ".") {
			if c == "" || c[0] == '-' || c[len(c)-1] == '-' || strings.Trim(strings.ToLower(c), "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
				return false
			}
		}
	}
	return !hasPort || port != "" && len(port) <= 5 && strings.Trim(port, "0123456789") == ""
}

// validPathComponent: [a-z0-9]+ joined by one of ".", "_", "__" or "-"+.
func validPathComponent(c string) bool {
	if c == "" || !isAlnum(rune(c[0])) || !isAlnum(rune(c[len(c)-1])) {
		return false
	}
	for i := 0; i < len(c); {
		if isAlnum(rune(c[i])) {
			i++
			continue
		}
		j := i
		for j < len(c) && !isAlnum(rune(c[j])) {
			j++
		}
		if sep := c[i:j]; sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
			return false
		}
		i = j
	}
	return true
}

func isAlnum(c rune) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// String returns the full reference: repository, then :tag and @digest
// where present.
func (r Reference) String() string {
	s := r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Name returns the key under which the store records the reference: the
// digest form when there is a digest (a tag beside it only annotates it).
func (r Reference) Name() string {
	if r.Digest != "" {
		return r.Repository + "@" + r.Digest
	}
	return r.Repository + ":" + r.Tag
}

// Domain returns the registry host of the reference.
func (r Reference) Domain() string {
	d, _, _ := strings.Cut(r.Repository, "/")
	return d
}

// Familiar returns the reference as Docker shows it: without
// "docker.io/library/" or "docker.io/".
func (r Reference) Familiar() string {
	return Familiar(r.String())
}

// Familiar shortens a full reference string as Docker shows it.
func Familiar(s string) string {
	if rest, ok := strings.CutPrefix(s, dockerHub+"/"); ok {
		if short, ok := strings.CutPrefix(rest, "library/"); ok && !strings.Contains(strings.SplitN(short, ":", 2)[0], "/") {
			return short
		}
		return rest
	}
	return s
}
