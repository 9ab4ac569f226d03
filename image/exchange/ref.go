package exchange

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// ref is an image reference in Docker's grammar, normalised:
// repo has a domain ("docker.io/library/busybox"), and there is a tag, a
// digest or both.
type ref struct {
	repo, tag string
	dgst      digest.Digest
}

// parseRef normalises s as Docker does: "busybox" is
// docker.io/library/busybox:latest.
func parseRef(s string) (ref, error) {
	var r ref
	bad := func(why string) (ref, error) {
		return ref{}, fmt.Errorf("invalid image reference %q: %s: %w", s, why, errdefs.ErrInvalidArgument)
	}
	rest := s
	if name, d, ok := strings.Cut(s, "@"); ok {
		dg, err := digest.Parse(d)
		if err != nil {
			return bad("bad digest")
		}
		r.dgst, rest = dg, name
	}
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		r.tag, rest = rest[i+1:], rest[:i]
		if !validTag(r.tag) {
			return bad("bad tag")
		}
	}
	domain, path := "docker.io", rest
	if first, after, ok := strings.Cut(rest, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		domain, path = first, after
		if !validDomain(domain) {
			return bad("bad registry host")
		}
	}
	if domain == "index.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	for _, c := range strings.Split(path, "/") {
		if !validComponent(c) {
			return bad(fmt.Sprintf("bad repository component %q", c))
		}
	}
	r.repo = domain + "/" + path
	if len(r.repo) > 255 {
		return bad("repository name longer than 255 characters")
	}
	if r.tag == "" && r.dgst == "" {
		r.tag = "latest"
	}
	return r, nil
}

// String is the full reference.
func (r ref) String() string {
	s := r.repo
	if r.tag != "" {
		s += ":" + r.tag
	}
	if r.dgst != "" {
		s += "@" + r.dgst.String()
	}
	return s
}

func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !lowerAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// validDomain accepts host[:port] with dot-separated labels; a bracketed
// IPv6 host is also allowed.
func validDomain(d string) bool {
	host, port, hasPort := d, "", false
	if strings.HasPrefix(d, "[") {
		end := strings.IndexByte(d, ']')
		if end < 2 || strings.Trim(d[1:end], "0123456789abcdefABCDEF:.") != "" {
			return false
		}
		if after := d[end+1:]; after != "" {
			if port, hasPort = strings.CutPrefix(after, ":"); !hasPort {
				return false
			}
		}
	} else {
		host, port, hasPort = strings.Cut(d, ":")
		for _, l := range strings.Split(host, ".") {
			if l == "" || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(strings.ToLower(l), "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
				return false
			}
		}
	}
	return !hasPort || port != "" && len(port) <= 5 && strings.Trim(port, "0123456789") == ""
}

// validComponent: lower-case alphanumerics joined by ".", "_", "__" or
// runs of "-".
func validComponent(c string) bool {
	if c == "" || !lowerAlnum(c[0]) || !lowerAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if lowerAlnum(c[i]) {
			i++
			continue
		}
		j := i
		for j < len(c) && !lowerAlnum(c[j]) {
			j++
		}
		if sep := c[i:j]; sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
			return false
		}
		i = j
	}
	return true
}

func lowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
