// inroot: paths from config.json resolved inside the rootfs, for the C
// init (initplan.c). This mirrors runtime/container/inroot.go step for
// step, error texts included: openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
// keeps ".." and absolute symlinks inside the rootfs, and every mount acts
// on the resolved inode through /proc/self/fd/N, so no component can be
// swapped between the look-up and the mount.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

char nsexec_emsg[1024];
int nsexec_eno;

// maxSymlinks in inroot.go: dangling symlinks followed while creating.
#define MAX_SYMLINKS 40
#define PATHBUF (PATH_MAX * 2)

static int seterr(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int seterr(int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(nsexec_emsg, sizeof(nsexec_emsg), fmt, ap);
	va_end(ap);
	nsexec_eno = errnum;
	return -1;
}

void nsexec_bail_err(const char *prefix)
{
	if (prefix && *prefix)
		nsexec_bailn(nsexec_eno, "%s: %s", prefix, nsexec_emsg);
	nsexec_bailn(nsexec_eno, "%s", nsexec_emsg);
}

int nsexec_clean(const char *in, char *out, size_t size)
{
	size_t n = 0;
	const char *p = in;
	if (size < 2)
		return -1;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t l = e - p;
		if (l == 0 || (l == 1 && p[0] == '.')) {
			// skip
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			// Drop the last component and its slash; at the root,
			// ".." is the root.
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else {
			if (n + 1 + l + 1 > size)
				return -1;
			out[n] = '/';
			memcpy(out + n + 1, p, l);
			n += 1 + l;
		}
		p = e;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = 0;
	return 0;
}

static int openat2_in_root(int root, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
	// A scoped look-up fails with EAGAIN when any mount or rename ran on
	// the host while it walked ".." (openat2(2)): retry a few times.
	for (int i = 0; fd < 0 && errno == EAGAIN && i < 16; i++)
		fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
	return (int)fd;
}

int nsexec_open_in_root(int root, const char *path, int flags)
{
	char clean[PATHBUF];
	if (nsexec_clean(path, clean, sizeof(clean)) < 0)
		return seterr(ENAMETOOLONG, "open in rootfs %s", path);
	const char *rel = clean[1] ? clean + 1 : ".";
	int fd = openat2_in_root(root, rel, flags);
	if (fd < 0)
		return seterr(errno, "open in rootfs %s", path);
	return fd;
}

static int fd_path(int fd, char *buf, size_t size)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, buf, size - 1);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

// follow_in_root reads the symlink name in dir (at lexical path dir_path
// in root) and writes the path it names inside root to out. Nothing is
// resolved here: the caller resolves the result in root.
static int follow_in_root(int root, int dir, const char *dir_path, const char *name, char *out, size_t size)
{
	char target[PATH_MAX + 1], joined[PATHBUF + PATH_MAX + 2];
	ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = 0;
	if (target[0] == '/')
		return nsexec_clean(target, out, size);
	// Relative to where dir really is in root, which differs from
	// dir_path when a component before was a symlink.
	const char *base = dir_path;
	char r[PATHBUF], d[PATHBUF], rel[PATHBUF];
	if (fd_path(root, r, sizeof(r)) == 0 && fd_path(dir, d, sizeof(d)) == 0) {
		size_t rl = strlen(r);
		while (rl > 0 && r[rl - 1] == '/')
			rl--;
		if (strcmp(d, r) == 0)
			base = "/";
		else if (strncmp(d, r, rl) == 0 && d[rl] == '/') {
			snprintf(rel, sizeof(rel), "/%s", d + rl + 1);
			base = rel;
		}
	}
	snprintf(joined, sizeof(joined), "%s/%s", base, target);
	return nsexec_clean(joined, out, size);
}

// mkdir_last creates the last component of clean when its parent exists:
// the common case, in four syscalls rather than a walk from the root.
// The new directory is opened relative to the parent without following
// a symlink, so it is the one just made. Anything else (a missing parent,
// a dangling symlink, a race) returns -1, for the walk to handle and
// report in Go's words.
static int mkdir_last(int root, const char *clean, unsigned mode)
{
	const char *slash = strrchr(clean, '/');
	if (!slash || !slash[1])
		return -1;
	char parent[PATHBUF];
	snprintf(parent, sizeof(parent), "%.*s", slash == clean ? 1 : (int)(slash - clean), clean);
	int p = openat2_in_root(root, parent[1] ? parent + 1 : ".", O_PATH | O_DIRECTORY);
	if (p < 0)
		return -1;
	int d = -1;
	if (mkdirat(p, slash + 1, mode) == 0)
		d = openat(p, slash + 1, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(p);
	return d;
}

static int mkdir_all(int root, const char *path, unsigned mode, int links)
{
	char clean[PATHBUF], done[PATHBUF], next[PATHBUF];
	if (nsexec_clean(path, clean, sizeof(clean)) < 0)
		return seterr(ENAMETOOLONG, "mkdir %s in rootfs", path);
	int d = nsexec_open_in_root(root, clean, O_PATH | O_DIRECTORY);
	if (d >= 0)
		return d;
	if (nsexec_eno == ENOENT && (d = mkdir_last(root, clean, mode)) >= 0)
		return d;
	int cur = nsexec_open_in_root(root, "/", O_PATH | O_DIRECTORY);
	if (cur < 0)
		return -1;
	strcpy(done, "/");
	const char *p = clean + 1;
	while (*p) {
		const char *e = strchrnul(p, '/');
		char part[NAME_MAX + 1];
		size_t l = e - p;
		if (l > NAME_MAX) {
			close(cur);
			return seterr(ENAMETOOLONG, "mkdir %s in rootfs", clean);
		}
		memcpy(part, p, l);
		part[l] = 0;
		snprintf(next, sizeof(next), "%s%s%s", done, strcmp(done, "/") ? "/" : "", part);
		d = nsexec_open_in_root(root, next, O_PATH | O_DIRECTORY);
		if (d < 0 && nsexec_eno == ENOENT) {
			int r = mkdirat(cur, part, mode);
			int e2 = errno;
			if (r < 0 && e2 == EEXIST) {
				// A dangling symlink (mkdirat does not follow it):
				// create its target instead, resolved inside root
				// as the kernel will resolve the link in the
				// container.
				char target[PATHBUF], rest[PATHBUF * 2];
				if (follow_in_root(root, cur, done, part, target, sizeof(target)) == 0) {
					close(cur);
					if (links >= MAX_SYMLINKS)
						return seterr(ELOOP, "mkdir %s in rootfs", clean);
					snprintf(rest, sizeof(rest), "%s/%s", target, *e ? e + 1 : "");
					return mkdir_all(root, rest, mode, links + 1);
				}
			}
			if (r < 0 && e2 != EEXIST) {
				close(cur);
				return seterr(e2, "mkdir %s in rootfs", next);
			}
			d = nsexec_open_in_root(root, next, O_PATH | O_DIRECTORY);
		}
		close(cur);
		if (d < 0) {
			char inner[sizeof(nsexec_emsg)];
			snprintf(inner, sizeof(inner), "%s", nsexec_emsg);
			return seterr(nsexec_eno, "mkdir %s in rootfs: %s", next, inner);
		}
		cur = d;
		snprintf(done, sizeof(done), "%s", next);
		p = *e ? e + 1 : e;
	}
	return cur;
}

int nsexec_mkdir_all_in_root(int root, const char *path, unsigned mode)
{
	return mkdir_all(root, path, mode, 0);
}

// base_name is filepath.Base.
static void base_name(const char *path, char *out, size_t size)
{
	size_t n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n == 0) {
		snprintf(out, size, "%s", *path ? "/" : ".");
		return;
	}
	size_t s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	snprintf(out, size, "%.*s", (int)(n - s), path + s);
}

static int create_file(int root, const char *path, int links)
{
	char clean[PATHBUF], parent_path[PATHBUF], base[PATHBUF];
	int f = nsexec_open_in_root(root, path, O_PATH);
	if (f >= 0)
		return f;
	if (nsexec_clean(path, clean, sizeof(clean)) < 0)
		return seterr(ENAMETOOLONG, "create %s in rootfs", path);
	// filepath.Dir of a clean absolute path.
	snprintf(parent_path, sizeof(parent_path), "%s", clean);
	char *slash = strrchr(parent_path, '/');
	if (slash == parent_path)
		parent_path[1] = 0;
	else
		*slash = 0;
	int parent = mkdir_all(root, parent_path, 0755, 0);
	if (parent < 0)
		return -1;
	base_name(path, base, sizeof(base));
	int fd = openat(parent, base, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST) {
		int e = errno;
		close(parent);
		return seterr(e, "create %s in rootfs", path);
	}
	f = nsexec_open_in_root(root, path, O_PATH);
	if (f < 0 && nsexec_eno == ENOENT && links < MAX_SYMLINKS) {
		// A dangling symlink: create the file it names, inside root.
		char target[PATHBUF];
		if (follow_in_root(root, parent, parent_path, base, target, sizeof(target)) == 0) {
			close(parent);
			return create_file(root, target, links + 1);
		}
		seterr(ENOENT, "open in rootfs %s", path);
	}
	close(parent);
	return f;
}

int nsexec_create_file_in_root(int root, const char *path)
{
	return create_file(root, path, 0);
}
