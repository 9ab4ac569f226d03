package spec

import (
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// tmpfsMount is a --tmpfs or --mount type=tmpfs: noexec, nosuid, nodev and
// private unless data says otherwise.
func tmpfsMount(dest, data string) (specs.Mount, error) {
	opts := []string{"noexec", "nosuid", "nodev", "rprivate"}
	if data != "" {
		opts = append(opts, strings.Split(data, ",")...)
	}
	merged, err := mergeTmpfsOptions(opts)
	if err != nil {
		return specs.Mount{}, err
	}
	return specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: merged}, nil
}

// tmpfsFlagKey groups the flag options that cancel each other: the later
// of "exec" and "noexec" wins, as does the later propagation.
func tmpfsFlagKey(o string) (string, bool) {
	switch o {
	case "ro", "rw":
		return "rdonly", true
	case "suid", "nosuid":
		return "nosuid", true
	case "dev", "nodev":
		return "nodev", true
	case "exec", "noexec":
		return "noexec", true
	case "sync", "async":
		return "sync", true
	case "dirsync":
		return "dirsync", true
	case "mand", "nomand":
		return "mand", true
	case "atime", "noatime":
		return "noatime", true
	case "diratime", "nodiratime":
		return "nodiratime", true
	case "relatime", "norelatime":
		return "relatime", true
	case "strictatime", "nostrictatime":
		return "strictatime", true
	case "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable":
		return "propagation", true
	}
	return "", false
}

// mergeTmpfsOptions drops options overridden by later ones and refuses
// anything tmpfs does not take, as Docker does: flags above, and size,
// mode, uid, gid, nr_inodes, nr_blocks and mpol with a value.
func mergeTmpfsOptions(opts []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for i := len(opts) - 1; i >= 0; i-- {
		o := opts[i]
		if o == "defaults" {
			continue
		}
		key, isFlag := tmpfsFlagKey(o)
		if !isFlag {
			k, v, ok := strings.Cut(o, "=")
			if !ok || !validTmpfsData(k, v) {
				return nil, invalidf("invalid tmpfs option %q", o)
			}
			key = "=" + k
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, o)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

func validTmpfsData(k, v string) bool {
	digits := func(s string, suffixes string) bool {
		if s == "" {
			return false
		}
		if strings.ContainsAny(s[len(s)-1:], suffixes) {
			s = s[:len(s)-1]
		}
		if s == "" || len(s) > 20 {
			return false
		}
		return strings.Trim(s, "0123456789") == ""
	}
	switch k {
	case "size":
		return digits(v, "kKmMgGtTpPeE%")
	case "nr_inodes", "nr_blocks":
		return digits(v, "kKmMgGtTpPeE")
	case "uid", "gid":
		return digits(v, "")
	case "mode":
		return v != "" && len(v) <= 5 && strings.Trim(v, "01234567") == ""
	case "mpol":
		return v != "" && !strings.ContainsAny(v, ", \t\n")
	}
	return false
}

// tmpfsData renders --mount type=tmpfs options as tmpfs data: Docker picks
// the largest unit that divides the size exactly.
func tmpfsData(o *mount.TmpfsOptions, readOnly bool) (string, error) {
	var raw []string
	if readOnly {
		raw = append(raw, "ro")
	}
	if o == nil {
		return strings.Join(raw, ","), nil
	}
	if o.Mode != 0 {
		if uint32(o.Mode)&^0o7777 != 0 {
			return "", invalidf("invalid tmpfs mode %o", uint32(o.Mode))
		}
		raw = append(raw, fmt.Sprintf("mode=%o", uint32(o.Mode)))
	}
	if o.SizeBytes < 0 {
		return "", invalidf("invalid tmpfs size %d: must not be negative", o.SizeBytes)
	}
	if size := o.SizeBytes; size != 0 {
		suffix := ""
		for _, u := range []struct {
			s string
			d int64
		}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
			if size%u.d == 0 {
				size, suffix = size/u.d, u.s
				break
			}
		}
		raw = append(raw, fmt.Sprintf("size=%d%s", size, suffix))
	}
	for _, kv := range o.Options {
		switch len(kv) {
		case 1:
			raw = append(raw, kv[0])
		case 2:
			raw = append(raw, kv[0]+"="+kv[1])
		default:
			return "", invalidf("invalid tmpfs option %q", kv)
		}
	}
	for _, r := range raw {
		if strings.Contains(r, ",") {
			return "", invalidf("invalid tmpfs option %q", r)
		}
	}
	return strings.Join(raw, ","), nil
}
