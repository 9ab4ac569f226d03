package spec

import (
	"strconv"
	"strings"
)

// secOpts is what --security-opt asks for.
type secOpts struct {
	noNewPrivs      bool
	seccomp         string // "", "unconfined", "builtin" or a JSON profile
	writableCgroups bool
}

// parseSecurityOpts reads HostConfig.SecurityOpt as Docker does: "key=value"
// (or the deprecated "key:value"), plus the bare "no-new-privileges",
// "writable-cgroups" and "disable". The docker CLI sends seccomp=FILE as the
// file's JSON content. AppArmor and SELinux labels are accepted and ignored:
// berth applies neither LSM; "unconfined" and "disable" are what it does.
func parseSecurityOpts(opts []string, daemonNoNewPrivs bool) (secOpts, []string, error) {
	s := secOpts{noNewPrivs: daemonNoNewPrivs}
	var warnings []string
	for _, opt := range opts {
		switch opt {
		case "no-new-privileges":
			s.noNewPrivs = true
			continue
		case "writable-cgroups":
			s.writableCgroups = true
			continue
		case "disable":
			continue
		}
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			// "key:value" is Docker's deprecated form; a JSON profile
			// always has an "=" before its first ":".
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok {
			return s, nil, invalidf("invalid --security-opt 1: %q", opt)
		}
		switch k {
		case "seccomp":
			s.seccomp = v
		case "no-new-privileges", "writable-cgroups":
			on, err := strconv.ParseBool(v)
			if err != nil {
				return s, nil, invalidf("invalid --security-opt 2: %q", opt)
			}
			if k == "no-new-privileges" {
				s.noNewPrivs = on
			} else {
				s.writableCgroups = on
			}
		case "apparmor":
			if v != "unconfined" {
				warnings = append(warnings, "AppArmor is not supported by berth: security-opt "+opt+" ignored")
			}
		case "label":
			if v != "disable" {
				warnings = append(warnings, "SELinux labels are not supported by berth: security-opt "+opt+" ignored")
			}
		default:
			return s, nil, invalidf("invalid --security-opt 2: %q", opt)
		}
	}
	return s, warnings, nil
}
