package mount

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// errNoLowerdirAdd reports a kernel without the new mount API or without
// overlayfs's "lowerdir+" parameter; the caller falls back to mount(2).
var errNoLowerdirAdd = errors.New("kernel has no fsconfig lowerdir+ for overlay")

// fsconfigMaxString is the kernel's limit on a string passed to
// fsconfig(FSCONFIG_SET_STRING), terminating NUL included (fs/fsopen.c).
const fsconfigMaxString = 256

func mountOverlay(source, target string, o options) error {
	var uts unix.Utsname
	if unix.Uname(&uts) != nil || !hasLowerdirAdd(unix.ByteSliceToString(uts.Release[:])) {
		return overlayClassic(source, target, o)
	}
	err := overlayFsconfig(source, target, o)
	if errors.Is(err, errNoLowerdirAdd) {
		return overlayClassic(source, target, o)
	}
	return err
}

// hasLowerdirAdd tells from a kernel release ("6.8.0-31-generic") whether
// overlayfs takes "lowerdir+" (Linux 6.8). Older kernels must not get it:
// before 6.5 overlayfs used the legacy option parser, which accepts any key
// and fails only at create time with nothing in the context's log.
func hasLowerdirAdd(release string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(release, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 6 || major == 6 && minor >= 8
}

// overlayFsconfig mounts an overlay with the new mount API, one fsconfig(2)
// call per layer, so the number of layers is not bound by a page of data:
//
//  1. fsopen("overlay") creates a filesystem context
//  2. fsconfig sets each option; lowerdir is split into lowerdir+ calls
//  3. fsconfig(FSCONFIG_CMD_CREATE) builds the superblock
//  4. fsmount turns it into a detached mount with the per-mount flags
//  5. move_mount attaches it at target
func overlayFsconfig(source, target string, o options) error {
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if errors.Is(err, unix.ENOSYS) {
		return errNoLowerdirAdd
	}
	if err != nil {
		return fmt.Errorf("fsopen overlay for %s: %w", target, err)
	}
	defer unix.Close(fd)
	fail := func(what string, err error) error {
		return fmt.Errorf("overlay on %s: %s: %w%s", target, what, err, kernelLog(fd))
	}
	if source != "" {
		if err := unix.FsconfigSetString(fd, "source", source); err != nil {
			return fail("source", err)
		}
	}
	for _, opt := range o.data {
		key, val, hasVal := strings.Cut(opt, "=")
		switch {
		case key == "lowerdir":
			for i, dir := range splitLowerdirs(val) {
				if err := fsconfigPath(fd, "lowerdir+", dir); err != nil {
					msg := kernelLog(fd)
					if i == 0 && errors.Is(err, unix.EINVAL) && strings.Contains(msg, "nknown parameter") {
						return errNoLowerdirAdd
					}
					return fmt.Errorf("overlay on %s: lowerdir+ %s: %w%s", target, dir, err, msg)
				}
			}
		case key == "upperdir" || key == "workdir":
			if err := fsconfigPath(fd, key, val); err != nil {
				return fail(key+" "+val, err)
			}
		case hasVal:
			if err := unix.FsconfigSetString(fd, key, val); err != nil {
				return fail(opt, err)
			}
		default:
			if err := unix.FsconfigSetFlag(fd, key); err != nil {
				return fail(opt, err)
			}
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return fail("create", err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, int(o.mountAttr()))
	if err != nil {
		return fail("fsmount", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("overlay on %s: move_mount: %w", target, err)
	}
	return nil
}

// fsconfigPath passes a directory to the filesystem context. A path too long
// for fsconfig's string limit goes as /proc/self/fd/N of an O_PATH descriptor;
// overlayfs resolves the path during the call, while the descriptor is open.
func fsconfigPath(fd int, key, dir string) error {
	if len(dir) < fsconfigMaxString {
		return unix.FsconfigSetString(fd, key, dir)
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return unix.FsconfigSetString(fd, key, fmt.Sprintf("/proc/self/fd/%d", dfd))
}

// kernelLog drains the messages the kernel queued on a filesystem context
// (see fsopen(2)), formatted to follow an error; "" when there are none.
func kernelLog(fd int) string {
	var msgs []string
	buf := make([]byte, 4096)
	for range 32 {
		n, err := unix.Read(fd, buf)
		if err != nil || n <= 0 {
			break
		}
		msgs = append(msgs, strings.TrimSpace(string(buf[:n])))
	}
	if len(msgs) == 0 {
		return ""
	}
	return " (kernel: " + strings.Join(msgs, "; ") + ")"
}

// splitLowerdirs splits overlay's colon-separated lowerdir list; a backslash
// escapes the next character (a colon inside a path is written "\:").
func splitLowerdirs(s string) []string {
	var dirs []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == ':':
			dirs = append(dirs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(dirs, cur.String())
}

// escapeLowerdir escapes a path for a lowerdir list.
func escapeLowerdir(p string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(p)
}
