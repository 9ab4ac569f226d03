package spec

import (
	"bufio"
	"bytes"
	"slices"
	"strconv"
	"strings"
)

// maxID is the largest uid or gid Docker accepts (the kernel's is larger,
// but 2^31-1 keeps every tool that stores ids in an int happy).
const maxID = 1<<31 - 1

// passwdEntry and groupEntry are the fields of /etc/passwd and /etc/group
// the user resolution reads.
type passwdEntry struct {
	name     string
	uid, gid int
	home     string
}

type groupEntry struct {
	name    string
	gid     int
	members []string
}

// execUser is the resolved identity of the container's process.
type execUser struct {
	uid, gid int
	sgids    []int
}

// resolveUser turns the request's user ("", "uid", "uid:gid", "name",
// "name:group", mixed) into ids as Docker does (runc's GetExecUser rules):
//
//   - A number is a uid whether or not passwd lists it; a name must be listed.
//   - With the user found in passwd, its primary gid is passwd's, and without
//     an explicit group its supplementary groups are the /etc/group entries
//     naming it as a member.
//   - An explicit group (number or name) replaces the primary gid and adds no
//     supplementary groups.
//
// passwd and group are nil when the rootfs lacks those files.
func resolveUser(spec string, passwd []passwdEntry, group []groupEntry) (execUser, error) {
	userArg, groupArg, _ := strings.Cut(spec, ":")
	uidArg, uidErr := strconv.Atoi(userArg)
	gidArg, gidErr := strconv.Atoi(groupArg)

	u := execUser{}
	matched := ""
	found := false
	for _, p := range passwd {
		var ok bool
		switch {
		case userArg == "":
			ok = p.uid == 0
		case uidErr == nil:
			ok = p.uid == uidArg
		default:
			ok = p.name == userArg
		}
		if ok {
			u.uid, u.gid, matched, found = p.uid, p.gid, p.name, true
			break
		}
	}
	if !found && userArg != "" {
		if uidErr != nil {
			return u, invalidf("unable to find user %s: no matching entries in passwd file", userArg)
		}
		if uidArg < 0 || uidArg > maxID {
			return u, invalidf("uids and gids must be in range 0-%d", maxID)
		}
		u.uid = uidArg
	}

	if groupArg != "" {
		idx := slices.IndexFunc(group, func(g groupEntry) bool {
			if gidErr == nil {
				return g.gid == gidArg
			}
			return g.name == groupArg
		})
		switch {
		case idx >= 0:
			u.gid = group[idx].gid
		case gidErr != nil:
			return u, invalidf("unable to find group %s: no matching entries in group file", groupArg)
		case gidArg < 0 || gidArg > maxID:
			return u, invalidf("uids and gids must be in range 0-%d", maxID)
		default:
			u.gid = gidArg
		}
		return u, nil
	}
	if found {
		for _, g := range group {
			if slices.Contains(g.members, matched) {
				u.sgids = append(u.sgids, g.gid)
			}
		}
	}
	return u, nil
}

// additionalGroups resolves --group-add entries: group names or gids, a gid
// valid even when /etc/group does not list it.
func additionalGroups(names []string, group []groupEntry) ([]int, error) {
	var out []int
	for _, n := range names {
		gid, err := strconv.Atoi(n)
		idx := slices.IndexFunc(group, func(g groupEntry) bool {
			if err == nil {
				return g.gid == gid
			}
			return g.name == n
		})
		switch {
		case idx >= 0:
			out = append(out, group[idx].gid)
		case err != nil:
			return nil, invalidf("unable to find group %s: no matching entries in group file", n)
		case gid < 0 || gid > maxID:
			return nil, invalidf("uids and gids must be in range 0-%d", maxID)
		default:
			out = append(out, gid)
		}
	}
	return out, nil
}

// parsePasswd reads passwd(5) lines; lines that are not well-formed (NIS
// "+" entries, comments, bad numbers) are skipped rather than read as uid 0.
func parsePasswd(data []byte) []passwdEntry {
	var out []passwdEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxIDFileSize)
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(f) < 4 || f[0] == "" || strings.ContainsAny(f[0][:1], "#+-") {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
			continue
		}
		e := passwdEntry{name: f[0], uid: uid, gid: gid}
		if len(f) > 5 {
			e.home = f[5]
		}
		out = append(out, e)
	}
	return out
}

// parseGroup reads group(5) lines, skipping malformed ones.
func parseGroup(data []byte) []groupEntry {
	var out []groupEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxIDFileSize)
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(f) < 3 || f[0] == "" || strings.ContainsAny(f[0][:1], "#+-") {
			continue
		}
		gid, err := strconv.Atoi(f[2])
		if err != nil || gid < 0 {
			continue
		}
		e := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			e.members = strings.Split(f[3], ",")
		}
		out = append(out, e)
	}
	return out
}
