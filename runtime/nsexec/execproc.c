// execproc: the exec fast path. When the parent sets _BERTH_EXEC, the
// process that nsexec put into the container's namespaces and cgroups
// reads the process to run from the sync socket (the blob that
// runtime/container/execblob.go writes and describes), applies it in the
// order Go's init would, and execs it: the Go runtime never starts inside
// the container. The process is non-dumpable (_BERTH_NODUMP) until execve.
//
// Order (each step still permitted by the ones before):
//   1. oom_score_adj; HOME from the container's /etc/passwd; the program
//      looked up in PATH
//   2. rlimits; every fd but stdio and the preserved ones close-on-exec
//   3. cwd, checked to be inside the root
//   4. seccomp, if no_new_privs is not set (needs CAP_SYS_ADMIN)
//   5. bounding set; groups, gid, uid (keeping capabilities); the other
//      capability sets; umask
//   6. no_new_privs and seccomp; execve
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

const char nsexec_unknown_record[] = "unknown record";

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		nsexec_bailx("nsexec: out of memory");
	return p;
}

uint32_t nsexec_get32(const char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

uint64_t nsexec_get64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

#define get32 nsexec_get32
#define get64 nsexec_get64

// str checks that a string payload is NUL-terminated with no NUL inside.
static int str_ok(const char *p, uint32_t len)
{
	return len > 0 && p[len - 1] == 0 && strlen(p) == len - 1;
}

static void push(char ***v, int *n, const char *s)
{
	*v = realloc(*v, sizeof(char *) * (*n + 2));
	if (!*v)
		nsexec_bailx("nsexec: out of memory");
	(*v)[(*n)++] = (char *)s;
	(*v)[*n] = NULL;
}

char *nsexec_recv_packet(int fd, size_t *len, int *fds, int *nfds, int max)
{
	ssize_t n;
	*nfds = 0;
	do
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		nsexec_bail("nsexec: read from parent");
	if (n == 0)
		_exit(1); // the parent is gone: nobody to tell
	char *buf = xmalloc(n);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * NSEXEC_MAX_FDS)];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = n};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	ssize_t got;
	do
		got = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got != n)
		nsexec_bail("nsexec: read from parent");
	if (mh.msg_flags & MSG_CTRUNC)
		nsexec_bailx("nsexec: too many fds from parent");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (int i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < max)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	*len = n;
	return buf;
}

void nsexec_proc_init(struct proc *p)
{
	memset(p, 0, sizeof(*p));
	p->umask = 022;
}

void nsexec_proc_free(struct proc *p)
{
	free(p->argv);
	free(p->envp);
	free(p->gids);
	free(p->filter);
	nsexec_proc_init(p);
}

const char *nsexec_proc_record(struct proc *p, uint32_t tag, const char *v, uint32_t n)
{
	switch (tag) {
	case T_ARG:
	case T_ENV:
	case T_CWD:
	case T_OOM:
		if (!str_ok(v, n))
			return "bad string";
		if (tag == T_ARG)
			push(&p->argv, &p->argc, v);
		else if (tag == T_ENV)
			push(&p->envp, &p->envc, v);
		else if (tag == T_CWD)
			p->cwd = v;
		else
			p->oom = v;
		return NULL;
	case T_USER:
		if (n < 8 || n % 4 || p->gids)
			return "bad user";
		p->uid = get32(v);
		p->gid = get32(v + 4);
		p->ngids = (n - 8) / 4;
		p->gids = xmalloc(n);
		for (uint32_t i = 0; i < p->ngids; i++)
			p->gids[i] = get32(v + 8 + 4 * i);
		return NULL;
	case T_UMASK:
		if (n != 4)
			return "bad umask";
		p->umask = get32(v);
		return NULL;
	case T_RLIMIT:
		if (n != 20 || p->nrl == MAX_RLIMITS)
			return "bad rlimit";
		p->rl[p->nrl].res = get32(v);
		p->rl[p->nrl].soft = get64(v + 4);
		p->rl[p->nrl].hard = get64(v + 12);
		p->nrl++;
		return NULL;
	case T_CAPS:
		if (n != 44 || get32(v) > 63)
			return "bad capabilities";
		p->has_caps = 1;
		p->last_cap = get32(v);
		p->bounding = get64(v + 4);
		p->effective = get64(v + 12);
		p->permitted = get64(v + 20);
		p->inheritable = get64(v + 28);
		p->ambient = get64(v + 36);
		return NULL;
	case T_NNP:
		p->nnp = 1;
		return NULL;
	case T_SECCOMP:
		if (n < 4 || (n - 4) % 8 || (n - 4) / 8 == 0 || (n - 4) / 8 > BPF_MAXINSNS || p->filter)
			return "bad seccomp program";
		p->has_seccomp = 1;
		p->sc_flags = get32(v);
		p->filter_len = (n - 4) / 8;
		p->filter = xmalloc(n - 4);
		memcpy(p->filter, v + 4, n - 4); // aligned copy
		return NULL;
	case T_PRESERVE:
		if (n != 4 || get32(v) > 1 << 20)
			return "bad preserved fds";
		p->preserve = get32(v);
		return NULL;
	}
	return nsexec_unknown_record;
}

const char *nsexec_proc_check(struct proc *p)
{
	if (p->argc == 0 || !p->cwd)
		return "no args or cwd";
	if (!p->envp) {
		p->envp = xmalloc(sizeof(char *));
		p->envp[0] = NULL;
	}
	return NULL;
}

static void parse(char *b, size_t len, struct proc *p)
{
	nsexec_proc_init(p);
	if (len < 4 || memcmp(b, "BEX1", 4) != 0)
		nsexec_bailx("nsexec: bad process blob");
	size_t off = 4;
	while (off < len) {
		if (len - off < 8)
			nsexec_bailx("nsexec: truncated process blob");
		uint32_t tag = get32(b + off), n = get32(b + off + 4);
		off += 8;
		if (n > len - off)
			nsexec_bailx("nsexec: truncated process blob");
		const char *err = nsexec_proc_record(p, tag, b + off, n);
		if (err == nsexec_unknown_record)
			nsexec_bailx("nsexec: unknown record %u in process blob", tag);
		if (err)
			nsexec_bailx("nsexec: %s in process blob", err);
		off += n;
	}
	const char *err = nsexec_proc_check(p);
	if (err)
		nsexec_bailx("nsexec: process blob without args or cwd");
}

// with_home adds HOME from the container's /etc/passwd when the
// environment has none, as a login would ("/" if the user has no entry).
static void with_home(struct proc *p)
{
	for (int i = 0; i < p->envc; i++)
		if (strncmp(p->envp[i], "HOME=", 5) == 0)
			return;
	const char *home = "/";
	char line[4096];
	FILE *f = fopen("/etc/passwd", "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *fields[7], *s = line;
			int nf = 0;
			line[strcspn(line, "\n")] = 0;
			while (nf < 7) {
				fields[nf++] = s;
				s = strchr(s, ':');
				if (!s)
					break;
				*s++ = 0;
			}
			if (nf < 6 || fields[5][0] == 0)
				continue;
			char *end;
			errno = 0;
			unsigned long uid = strtoul(fields[2], &end, 10);
			if (errno || *end || end == fields[2] || fields[2][0] == '-' || uid != p->uid)
				continue;
			home = fields[5];
			break;
		}
	}
	char *h = xmalloc(strlen(home) + 6);
	strcpy(h, "HOME=");
	strcat(h, home);
	if (f)
		fclose(f);
	push(&p->envp, &p->envc, h);
}

// executable returns 0 if path is an executable non-directory, else an
// errno (EISDIR, EACCES or stat's).
static int executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno;
	if (S_ISDIR(st.st_mode))
		return EISDIR;
	if (!(st.st_mode & 0111))
		return EACCES;
	return 0;
}

// look_path finds argv[0] as Go's init does: a name with a slash is used
// as is; else the last PATH= of the environment (or a default) is searched.
static const char *look_path(struct proc *p)
{
	const char *file = p->argv[0];
	if (strchr(file, '/')) {
		int e = executable(file);
		if (e == EISDIR)
			nsexec_bailx("exec: \"%s\": is a directory", file);
		// The messages are the Go init's, word for word: engines tell
		// 126 from 127 by them (docker: "permission denied", "no such
		// file or directory"), and the text must not depend on how the
		// errno travels to the parent.
		if (e == EACCES)
			nsexec_bailx("exec: \"%s\": permission denied", file);
		if (e)
			nsexec_bailx("exec: \"%s\": stat %s: %s", file, file, e == ENOENT ? "no such file or directory" : e == ENOTDIR ? "not a directory" : strerror(e));
		return file;
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (int i = 0; i < p->envc; i++)
		if (strncmp(p->envp[i], "PATH=", 5) == 0)
			path = p->envp[i] + 5;
	for (const char *d = path;; d++) {
		const char *end = strchrnul(d, ':');
		size_t dl = end - d;
		char *cand = xmalloc(dl + strlen(file) + 3);
		if (dl == 0)
			strcpy(cand, "./");
		else {
			memcpy(cand, d, dl);
			cand[dl] = '/';
			cand[dl + 1] = 0;
		}
		strcat(cand, file);
		if (executable(cand) == 0)
			return cand;
		free(cand);
		if (!*end)
			break;
		d = end;
	}
	nsexec_bailx("exec: \"%s\": executable file not found in $PATH", file);
}

static void load_seccomp(struct proc *p)
{
	struct sock_fprog prog = {.len = (unsigned short)p->filter_len, .filter = p->filter};
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->sc_flags, &prog);
	if (r < 0)
		nsexec_bail("load seccomp filter of %zu instructions", p->filter_len);
	if (r > 0)
		nsexec_bailx("load seccomp filter: thread %ld has a conflicting filter, so SECCOMP_FILTER_FLAG_TSYNC failed", r);
}

static void apply_bounding(struct proc *p)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		nsexec_bail("read capabilities");
	if (!(data[0].effective & (1U << CAP_SETPCAP)))
		return;
	for (uint32_t i = 0; i <= p->last_cap; i++) {
		if (p->bounding & (1ULL << i))
			continue;
		if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
			nsexec_bail("apply bounding capabilities: drop %u", i);
	}
}

static void apply_caps(struct proc *p)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(p->effective >> (32 * i));
		data[i].permitted = (uint32_t)(p->permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(p->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		nsexec_bail("apply capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		nsexec_bail("apply capabilities: clear ambient set");
	for (uint32_t i = 0; i <= p->last_cap; i++) {
		if (!(p->ambient & (1ULL << i)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0 && errno != EINVAL)
			nsexec_bail("apply capabilities: raise ambient %u", i);
	}
}

// set_user sets groups, gid and uid with raw syscalls (one thread, no
// need for libc's broadcast to every thread), keeping capabilities across
// the uid change so the configured sets can be applied after.
static void set_user(struct proc *p)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		nsexec_bail("set keepcaps");
	if (syscall(SYS_setgroups, (size_t)p->ngids, p->gids) < 0 && !(errno == EPERM && p->ngids == 0))
		nsexec_bail("setgroups");
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
		nsexec_bail("setresgid %u", p->gid);
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
		nsexec_bail("setresuid %u", p->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		nsexec_bail("clear keepcaps");
}

static const char *const rlimit_names[] = {
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
	"RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

const char *nsexec_proc_prepare(struct proc *p)
{
	if (p->oom) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, p->oom, strlen(p->oom)) < 0)
			nsexec_bail("set oom_score_adj %s", p->oom);
		close(fd);
	}
	with_home(p);
	return look_path(p);
}

void nsexec_proc_exec(struct proc *p, const char *path)
{
	// 2.
	for (int i = 0; i < p->nrl; i++) {
		struct rlimit r = {.rlim_cur = p->rl[i].soft, .rlim_max = p->rl[i].hard};
		if (setrlimit(p->rl[i].res, &r) < 0) {
			if (p->rl[i].res < sizeof(rlimit_names) / sizeof(rlimit_names[0]))
				nsexec_bail("set %s to %llu/%llu", rlimit_names[p->rl[i].res],
					    (unsigned long long)p->rl[i].soft, (unsigned long long)p->rl[i].hard);
			nsexec_bail("set rlimit %u to %llu/%llu", p->rl[i].res, (unsigned long long)p->rl[i].soft,
				    (unsigned long long)p->rl[i].hard);
		}
	}
	// No fd of the runtime may reach the container (CVE-2024-21626); the
	// sync socket closes at exec, which tells the parent it succeeded.
	if (syscall(SYS_close_range, 3 + p->preserve, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		nsexec_bail("mark fds close-on-exec");

	// 3.
	char wd[PATH_MAX];
	if (chdir(p->cwd) < 0)
		nsexec_bail("chdir to cwd \"%s\" set in config.json", p->cwd);
	if (!getcwd(wd, sizeof(wd)) || wd[0] != '/')
		nsexec_bailx("cwd \"%s\" is outside the container's root", p->cwd);

	// 4.
	if (p->has_seccomp && !p->nnp)
		load_seccomp(p);

	// 5.
	if (p->has_caps)
		apply_bounding(p);
	set_user(p);
	if (p->has_caps)
		apply_caps(p);
	umask(p->umask);

	// 6.
	if (p->nnp) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			nsexec_bail("set no_new_privs");
		if (p->has_seccomp)
			load_seccomp(p);
	}
	execve(path, p->argv, p->envp);
	nsexec_bail("exec %s", path);
}

void nsexec_exec_process(int sync_fd)
{
	size_t len;
	struct proc p;
	int nfds, fds[1];
	char *blob = nsexec_recv_packet(sync_fd, &len, fds, &nfds, 0);
	parse(blob, len, &p);
	// 1.
	const char *path = nsexec_proc_prepare(&p);
	nsexec_proc_exec(&p, path);
}
