// initrun: applies a decoded init plan (initplan.c), mirroring
// runtime/container/{init,rootfs,devices,pivot}.go step for step, error
// texts included.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "initplan.h"
#include "nsexec.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

static const char *procfd(int fd)
{
	static char buf[2][32];
	static int k;
	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "/proc/self/fd/%d", fd);
	return buf[k];
}

static const char *nz(const char *s)
{
	return *s ? s : NULL;
}

// remount_in_root is remountInRoot: in a user namespace the kernel refuses
// to clear flags locked by the source mount, so those are kept.
static void remount_in_root(int root, const char *dest, uint64_t flags, const char *wrap)
{
	char pfx[1200];
	snprintf(pfx, sizeof(pfx), "%s%sremount %s", wrap, *wrap ? ": " : "", dest);
	int t = nsexec_open_in_root(root, dest, O_PATH);
	if (t < 0)
		nsexec_bail_err(pfx);
	int r = mount("", procfd(t), "", MS_BIND | MS_REMOUNT | flags, NULL);
	int e = errno;
	if (r < 0 && e == EPERM) {
		struct statfs st;
		if (fstatfs(t, &st) == 0) {
			uint64_t locked = (uint64_t)st.f_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_NOATIME |
								  MS_NODIRATIME | MS_RELATIME);
			r = mount("", procfd(t), "", MS_BIND | MS_REMOUNT | flags | locked, NULL);
			e = errno;
		}
	}
	if (r < 0)
		nsexec_bailn(e, "%s%sremount %s with flags 0x%llx", wrap, *wrap ? ": " : "", dest, (unsigned long long)flags);
	close(t);
}

static void set_mount_attrs(int root, const struct plan_op *op)
{
	const char *dest = op->s[MS_DEST];
	uint64_t np = op->i[M_NPROPS];
	if (np == 0 && op->i[M_ATTRSET] == 0 && op->i[M_ATTRCLR] == 0)
		return;
	int t = nsexec_open_in_root(root, dest, O_PATH);
	if (t < 0) {
		char pfx[1100];
		snprintf(pfx, sizeof(pfx), "mount %s", dest);
		nsexec_bail_err(pfx);
	}
	for (uint64_t i = 0; i < np; i++)
		if (mount("", procfd(t), "", op->i[M_NPROPS + 1 + i], NULL) < 0)
			nsexec_bail("set propagation of %s", dest);
	if (op->i[M_ATTRSET] || op->i[M_ATTRCLR]) {
		struct mount_attr a = {.attr_set = op->i[M_ATTRSET], .attr_clr = op->i[M_ATTRCLR]};
		if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			nsexec_bail("set recursive attributes of %s", dest);
	}
	close(t);
}

// check_proc_dest is checkProcDest: no mount over a symlink at /proc or
// under it, which could redirect later /proc/self look-ups
// (CVE-2019-16884 class).
static void check_proc_dest(int root, const char *dest)
{
	int f = nsexec_open_in_root(root, dest, O_PATH | O_NOFOLLOW);
	if (f < 0 && nsexec_eno == ENOENT)
		return;
	char pfx[1100];
	snprintf(pfx, sizeof(pfx), "mount %s", dest);
	if (f < 0)
		nsexec_bail_err(pfx);
	struct stat st;
	if (fstat(f, &st) < 0)
		nsexec_bail("mount %s", dest);
	if (S_ISLNK(st.st_mode))
		nsexec_bailx("mount %s: destination is a symlink in the rootfs", dest);
	close(f);
}

// do_mount is mountInRoot (and the steps of mountCgroup), as the parent
// laid it out in op.
static void do_mount(int root, const struct plan_op *op)
{
	const char *dest = op->s[MS_DEST], *src = op->s[MS_SRC];
	uint64_t how = op->i[M_TARGET];
	int dir = how == T_DIR;
	if (how == T_BINDSRC) {
		struct stat st;
		if (stat(src, &st) < 0)
			nsexec_bail("mount %s: bind source: stat %s", dest, src);
		dir = S_ISDIR(st.st_mode);
	}
	if (op->i[M_PROCCHK])
		check_proc_dest(root, dest);
	if (how != T_NONE) {
		int t = dir ? nsexec_mkdir_all_in_root(root, dest, 0755) : nsexec_create_file_in_root(root, dest);
		if (t < 0)
			nsexec_bail_err(op->s[MS_TPREFIX]);
		if (*op->s[MS_MPREFIX]) {
			const char *fb = op->s[MS_FALLBACK];
			int r = mount(src, procfd(t), op->s[MS_FSTYPE], op->i[M_FLAGS], nz(op->s[MS_DATA]));
			if (r < 0 && errno == EPERM && *fb) {
				r = mount(fb, procfd(t), "", MS_BIND | MS_REC, NULL);
				if (r == 0 && op->i[M_FBFLAGS])
					r = mount("", procfd(t), "", MS_BIND | MS_REMOUNT | op->i[M_FBFLAGS], NULL);
			}
			if (r < 0)
				nsexec_bail("%s", op->s[MS_MPREFIX]);
		}
		close(t);
	}
	if (op->i[M_REST])
		remount_in_root(root, dest, op->i[M_REST], op->s[MS_RPREFIX]);
	set_mount_attrs(root, op);
}

static void do_device(int root, const struct plan_op *op)
{
	const char *path = op->s[0], *base = op->s[2];
	char pfx[1100];
	snprintf(pfx, sizeof(pfx), "device %s", path);
	int parent = nsexec_mkdir_all_in_root(root, op->s[1], 0755);
	if (parent < 0)
		nsexec_bail_err(pfx);
	// Whatever the image put there (a file, a symlink) is replaced.
	if (unlinkat(parent, base, 0) < 0 && errno != ENOENT && errno != EISDIR)
		nsexec_bail("device %s: remove what is there", path);
	if (mknodat(parent, base, (mode_t)op->i[0], (dev_t)op->i[1]) < 0)
		nsexec_bail("mknod %s", path);
	if (fchownat(parent, base, (uid_t)op->i[2], (gid_t)op->i[3], AT_SYMLINK_NOFOLLOW) < 0)
		nsexec_bail("chown device %s", path);
	close(parent);
}

static void do_symlink(int root, const struct plan_op *op)
{
	int quiet = op->i[0] != 0;
	int d = nsexec_mkdir_all_in_root(root, op->s[0], 0755);
	if (d < 0) {
		if (quiet)
			return;
		nsexec_bail_err("");
	}
	if (symlinkat(op->s[2], d, op->s[1]) < 0 && errno != EEXIST && !quiet)
		nsexec_bail("%s", op->s[3]);
	close(d);
}

// pivot is pivotRoot: pivot_root(".", ".") stacks the old root on the new
// one, which is then detached (pivot_root(2), NOTES); or, with --no-pivot,
// moveRoot.
static void pivot(const char *rootfs, int nopivot)
{
	if (nopivot) {
		if (chdir(rootfs) < 0)
			nsexec_bail("chdir to rootfs %s", rootfs);
		if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			nsexec_bail("move rootfs %s to /", rootfs);
		if (chroot(".") < 0)
			nsexec_bail("chroot to rootfs %s", rootfs);
		if (chdir("/") < 0)
			nsexec_bail("chdir /");
		return;
	}
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		nsexec_bail("open old root");
	int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (newroot < 0)
		nsexec_bail("open rootfs %s", rootfs);
	if (fchdir(newroot) < 0)
		nsexec_bail("chdir to rootfs %s", rootfs);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		nsexec_bail("pivot_root to %s", rootfs);
	if (fchdir(oldroot) < 0)
		nsexec_bail("chdir to old root");
	// Keep unmount events of the old root from reaching the host.
	if (mount("", ".", "", MS_SLAVE | MS_REC, NULL) < 0)
		nsexec_bail("make old root slave");
	if (umount2(".", MNT_DETACH) < 0)
		nsexec_bail("detach old root");
	if (chdir("/") < 0)
		nsexec_bail("chdir to new root");
	close(oldroot);
	close(newroot);
}

static void do_sysctl(const struct plan_op *op)
{
	const char *k = op->s[0], *v = op->s[1], *file = op->s[2];
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0);
	if (fd < 0)
		nsexec_bail("sysctl %s=%s: open %s", k, v, file);
	size_t n = strlen(v);
	if (write(fd, v, n) != (ssize_t)n)
		nsexec_bail("sysctl %s=%s: write %s", k, v, file);
	close(fd);
}

static void readonly_path(const char *p)
{
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return;
		nsexec_bail("readonly path %s", p);
	}
	if (mount(p, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		nsexec_bail("readonly path %s", p);
}

// mask_path is maskPath: /dev/null over a file, an empty read-only tmpfs
// over a directory. The directories share one tmpfs: the first is
// mounted, the others bind it (a bind keeps its read-only flag), which
// spares a superblock per directory.
static void mask_path(const char *p, char *empty, size_t size)
{
	int r = mount("/dev/null", p, NULL, MS_BIND, NULL);
	if (r < 0 && errno == ENOTDIR) {
		if (*empty)
			r = mount(empty, p, NULL, MS_BIND, NULL);
		if (!*empty || r < 0)
			r = mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL);
		if (r == 0 && !*empty)
			snprintf(empty, size, "%s", p);
	}
	if (r < 0 && errno != ENOENT)
		nsexec_bail("mask path %s", p);
}

static void readonly_root(void)
{
	if (mount("", "/", "", MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) == 0)
		return;
	int e = errno;
	struct statfs st;
	if (statfs("/", &st) < 0)
		nsexec_bailn(e, "remount root read-only");
	uint64_t locked = (uint64_t)st.f_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (mount("", "/", "", MS_BIND | MS_REMOUNT | MS_RDONLY | locked, NULL) < 0)
		nsexec_bail("remount root read-only");
}

// run_ops applies the ops in order; root is the rootfs, open from
// OP_BINDROOT until OP_PIVOT.
static void run_ops(struct plan *pl)
{
	int root = -1;
	char empty[4096] = ""; // the first masked directory
	for (int k = 0; k < pl->nops; k++) {
		const struct plan_op *op = &pl->ops[k];
		if (root < 0 && (op->tag == OP_MOUNT || op->tag == OP_DEVICE || op->tag == OP_SYMLINK || op->tag == OP_MKDIR))
			nsexec_bailx("nsexec: init plan uses the rootfs before binding it");
		switch (op->tag) {
		case OP_CGROUPNS:
			if (unshare(CLONE_NEWCGROUP) < 0)
				nsexec_bail("create cgroup namespace");
			break;
		case OP_MOUNTPATH:
			if (mount(op->s[0], op->s[1], op->s[2], op->i[0], nz(op->s[3])) < 0)
				nsexec_bail("%s", op->s[4]);
			break;
		case OP_BINDROOT:
			if (mount(op->s[0], op->s[0], "", MS_BIND | MS_REC, NULL) < 0)
				nsexec_bail("bind rootfs %s", op->s[0]);
			if (root >= 0)
				close(root);
			root = open(op->s[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (root < 0)
				nsexec_bail("open rootfs %s", op->s[0]);
			break;
		case OP_MOUNT:
			do_mount(root, op);
			break;
		case OP_DEVICE:
			do_device(root, op);
			break;
		case OP_SYMLINK:
			do_symlink(root, op);
			break;
		case OP_MKDIR: {
			int d = nsexec_mkdir_all_in_root(root, op->s[0], 0755);
			if (d < 0)
				nsexec_bail_err(op->s[1]);
			close(d);
			break;
		}
		case OP_PIVOT:
			if (root >= 0)
				close(root);
			root = -1;
			pivot(op->s[0], op->i[0] != 0);
			break;
		case OP_SYSCTL:
			do_sysctl(op);
			break;
		case OP_ROPATH:
			readonly_path(op->s[0]);
			break;
		case OP_MASK:
			mask_path(op->s[0], empty, sizeof(empty));
			break;
		case OP_ROROOT:
			readonly_root();
			break;
		case OP_UTS: {
			size_t n = strlen(op->s[0]);
			if (op->i[0] == 0 && sethostname(op->s[0], n) < 0)
				nsexec_bail("set hostname \"%s\"", op->s[0]);
			if (op->i[0] != 0 && setdomainname(op->s[0], n) < 0)
				nsexec_bail("set domainname \"%s\"", op->s[0]);
			break;
		}
		case OP_KEYRING:
			// A session keyring of its own, so containers share no keys.
			if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, op->s[0]) < 0 && errno != ENOSYS)
				nsexec_bail("join session keyring");
			break;
		}
	}
	if (root >= 0)
		close(root);
}

// same_mount_ns reports whether this process is still in the mount
// namespace the runtime ran in: the plan mounts and detaches, and must
// never do so there.
static int same_mount_ns(const struct plan *pl)
{
	struct stat st;
	if (stat("/proc/self/ns/mnt", &st) < 0)
		nsexec_bail("stat /proc/self/ns/mnt");
	return (uint64_t)st.st_dev == pl->host_mnt_dev && (uint64_t)st.st_ino == pl->host_mnt_ino;
}

static void die(int sig)
{
	(void)sig;
	_exit(2);
}

// exit_on_signals makes SIGHUP, SIGINT, SIGTERM and SIGQUIT end init as
// they end Go's init, whose runtime catches them and exits 2: the
// default action would not do, as a pid namespace's init ignores a signal
// it has no handler for. execve resets the handlers.
static void exit_on_signals(void)
{
	struct sigaction sa = {.sa_handler = die};
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGHUP, SIGINT, SIGTERM, SIGQUIT};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void nsexec_run_plan(int sync_fd)
{
	char magic[4];
	ssize_t n;
	do
		n = recv(sync_fd, magic, sizeof(magic), MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n != 4 || memcmp(magic, PLAN_MAGIC, 4) != 0)
		return; // Go's init config, or nothing: Go's init handles it
	// 1.
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		nsexec_bail("nsexec: set non-dumpable");
	exit_on_signals();
	size_t len;
	int fds[NSEXEC_MAX_FDS], nfds;
	char *blob = nsexec_recv_packet(sync_fd, &len, fds, &nfds, NSEXEC_MAX_FDS);
	struct plan *pl = malloc(sizeof(*pl));
	if (!pl)
		nsexec_bailx("nsexec: out of memory");
	const char *err = nsexec_plan_decode(pl, blob, len);
	if (err)
		nsexec_bailx("nsexec: bad init plan: %s", err);
	if (nfds < 1)
		nsexec_bailx("nsexec: init plan without the exec fifo");
	int fifo = fds[0];
	// The tasks files of the v1 cgroups, made while this process started:
	// it moves itself in, still single-threaded (see join_cgroups in
	// nsexec.c), before anything else.
	for (int i = 1; i < nfds; i++) {
		if (write(fds[i], "0", 1) != 1)
			nsexec_bail("join cgroup (fd %d)", fds[i]);
		close(fds[i]);
	}
	if (same_mount_ns(pl))
		nsexec_bailx("nsexec: refusing to set up a container in the runtime's own mount namespace");
	umask(0);
	// 2.
	run_ops(pl);
	// 3.
	const char *path = nsexec_proc_prepare(&pl->proc);
	const char *ready = "{\"type\":\"ready\"}";
	if (write(sync_fd, ready, strlen(ready)) < 0)
		nsexec_bail("write ready message");
	close(sync_fd);
	nsexec_late(1);
	// 4. Opening the fifo for writing blocks until `start` opens it for
	// reading.
	char fifo_path[64];
	snprintf(fifo_path, sizeof(fifo_path), "/proc/self/fd/%d", fifo);
	int w = open(fifo_path, O_WRONLY | O_CLOEXEC);
	if (w < 0)
		nsexec_bail("open exec fifo: open %s", fifo_path);
	if (write(w, "", 1) != 1)
		nsexec_bail("write exec fifo: write %s", fifo_path);
	close(w);
	close(fifo);
	// 5.
	nsexec_late(127);
	nsexec_proc_exec(&pl->proc, path);
}
