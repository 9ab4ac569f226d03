// nsexec joins and creates namespaces before the Go runtime starts, because
// setns(2) into a mount or user namespace and unshare(CLONE_NEWUSER) need a
// single-threaded process, and the Go runtime starts threads at once.
//
// It runs as a constructor in every berth-runtime process and returns at once
// unless _BERTH_NSEXEC is set. The parent passes:
//   _BERTH_SYNC    fd of the SOCK_SEQPACKET socket to the parent
//   _BERTH_NSJOIN  lines "TYPE:PATH" of namespaces to join (user first)
//   _BERTH_NSNEW   clone flags of namespaces to create after joining
//   _BERTH_TIMENS  lines for /proc/self/timens_offsets of a new time namespace
//   _BERTH_NSFORK  "1" to fork once more, so that a joined or new pid (or
//                  time) namespace applies to the process that becomes init
//   _BERTH_EXEC    "1" to read a process from the sync socket and exec it
//                  at the end, without starting the Go runtime (execproc.c)
//   _BERTH_PLAN    "1" to run a new container's init in C (initplan.c) if
//                  the parent's first packet is an init plan; otherwise
//                  Go's init reads that packet as its config
//   _BERTH_NODUMP  "1" to make the process non-dumpable before it joins a
//                  running container, so the container's processes cannot
//                  ptrace it or open its /proc/PID/fd (CVE-2016-9962); execve
//                  of the user's program makes it dumpable again
//
// Independently of _BERTH_NSEXEC, _BERTH_CGROUP_V1 (with _BERTH_SYNC) lists
// fds, comma-separated, of cgroup v1 tasks files that the process moves
// itself into first thing, while it is still single-threaded; see
// join_cgroups.
//
// Messages (JSON, one per packet) to the parent:
//   {"type":"userns"}        a user namespace was created; parent writes the
//                            id maps and answers with any packet
//   {"type":"pid","pid":N}   the forked child's pid in the parent's pid ns
//   {"type":"error","msg":S} set-up failed; the process exits 1
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "nsexec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

static int sync_fd = -1;
static int late_code;

void nsexec_late(int code)
{
	late_code = code;
}

// send_error sends msg, and ": " and the error text of errnum unless it is
// 0, to the parent as an error message, and exits 1. The error text is
// lower case, as Go prints it. After nsexec_late it prints the message to
// stderr instead and exits with the code given there.
static void send_error(const char *msg, int errnum) __attribute__((noreturn));
static void send_error(const char *msg, int errnum)
{
	char full[768], pkt[1024];
	int n, i;

	n = snprintf(full, sizeof(full), "%s", msg);
	if (n >= (int)sizeof(full))
		n = sizeof(full) - 1;
	if (errnum) {
		char text[128];
		snprintf(text, sizeof(text), "%s", strerror(errnum));
		if (text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'a' && text[1] <= 'z')
			text[0] += 'a' - 'A';
		snprintf(full + n, sizeof(full) - n, ": %s", text);
	}
	if (late_code) {
		// After create: nobody reads the sync socket, and the message is
		// the container's to see, as Go's init prints a late error.
		n = snprintf(pkt, sizeof(pkt), "berth-runtime: %s\n", full);
		(void)!write(2, pkt, n < (int)sizeof(pkt) ? n : (int)sizeof(pkt) - 1);
		_exit(late_code);
	}
	n = snprintf(pkt, sizeof(pkt), "{\"type\":\"error\",\"msg\":\"");
	for (i = 0; full[i] && n < (int)sizeof(pkt) - 8; i++) {
		unsigned char c = full[i];
		if (c < 0x20) {
			pkt[n++] = ' ';
			continue;
		}
		if (c == '"' || c == '\\')
			pkt[n++] = '\\';
		pkt[n++] = c;
	}
	pkt[n++] = '"';
	pkt[n++] = '}';
	if (sync_fd >= 0)
		(void)!write(sync_fd, pkt, n);
	_exit(1);
}

void nsexec_bail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_error(msg, saved);
}

void nsexec_bailn(int errnum, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_error(msg, errnum);
}

void nsexec_bailx(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_error(msg, 0);
}

static int ns_flag(const char *type)
{
	static const struct {
		const char *name;
		int flag;
	} types[] = {
		{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
		{"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
		{"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, type) == 0)
			return types[i].flag;
	return 0;
}

#define MAX_NS 16

struct ns {
	int flag;
	int fd;
	char *path;
};

// open_all opens every namespace path first, before joining any: once the
// mount namespace is joined, host paths no longer resolve.
static int open_all(char *spec, struct ns *out)
{
	int n = 0;
	for (char *line = strtok(spec, "\n"); line; line = strtok(NULL, "\n")) {
		char *colon = strchr(line, ':');
		if (!colon || n == MAX_NS)
			nsexec_bail("nsexec: bad namespace entry %s", line);
		*colon = 0;
		out[n].flag = ns_flag(line);
		out[n].path = colon + 1;
		if (!out[n].flag)
			nsexec_bail("nsexec: unknown namespace type %s", line);
		out[n].fd = open(out[n].path, O_RDONLY | O_CLOEXEC);
		if (out[n].fd < 0)
			nsexec_bail("open %s namespace %s", line, out[n].path);
		n++;
	}
	return n;
}

static void join(struct ns *ns, int n, int pass)
{
	for (int i = 0; i < n; i++) {
		int user = ns[i].flag == CLONE_NEWUSER, mnt = ns[i].flag == CLONE_NEWNS;
		// pass 0: user; pass 1: all but user and mnt; pass 2: mnt.
		if ((pass == 0) != user || (pass == 2) != mnt)
			continue;
		if (setns(ns[i].fd, ns[i].flag) < 0)
			nsexec_bail("join namespace %s", ns[i].path);
		close(ns[i].fd);
	}
}

static void become_root(void)
{
	if (setresgid(0, 0, 0) < 0)
		nsexec_bail("setresgid 0 in user namespace");
	if (setresuid(0, 0, 0) < 0)
		nsexec_bail("setresuid 0 in user namespace");
}

static void write_timens(const char *offsets)
{
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		nsexec_bail("open /proc/self/timens_offsets");
	size_t len = strlen(offsets);
	if (write(fd, offsets, len) != (ssize_t)len)
		nsexec_bail("write time namespace offsets");
	close(fd);
}

// join_cgroups moves this process into cgroup v1 hierarchies by writing "0"
// (the caller) to each of fds, the tasks files the parent opened. The
// parent could write the pid to cgroup.procs, but that takes
// cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period
// (5-20 ms) whenever no other migration ran just before. Moving a single
// thread, the caller itself, skips that lock; here, before the Go runtime
// starts, the one thread is the whole process, and every thread and child
// made later inherits the cgroups. The kernel checks the credentials of
// whoever opened the file, so this works in a new user namespace too. (The
// unified hierarchy has no such file: the parent clones the process into
// its cgroup with CLONE_INTO_CGROUP.)
static void join_cgroups(const char *fds)
{
	const char *p = fds;
	while (*p) {
		char *end;
		long fd = strtol(p, &end, 10);
		if (end == p || fd < 3 || (*end && *end != ','))
			nsexec_bail("nsexec: bad cgroup fd list %s", fds);
		if (write((int)fd, "0", 1) != 1)
			nsexec_bail("join cgroup (fd %ld)", fd);
		close((int)fd);
		p = *end ? end + 1 : end;
	}
}

__attribute__((constructor)) static void berth_nsexec(void)
{
	const char *s = getenv("_BERTH_SYNC");
	const char *cg = getenv("_BERTH_CGROUP_V1");
	if (cg && *cg) {
		if (!s)
			_exit(1);
		sync_fd = atoi(s);
		join_cgroups(cg);
	}
	const char *on = getenv("_BERTH_NSEXEC");
	const char *plan = getenv("_BERTH_PLAN");
	int want_plan = plan && strcmp(plan, "1") == 0;
	if (!on || strcmp(on, "1") != 0) {
		if (want_plan) {
			if (!s)
				_exit(1);
			sync_fd = atoi(s);
			nsexec_run_plan(sync_fd);
		}
		return;
	}
	if (!s)
		_exit(1);
	sync_fd = atoi(s);
	const char *nd = getenv("_BERTH_NODUMP");
	if (nd && strcmp(nd, "1") == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		nsexec_bail("nsexec: set non-dumpable");

	struct ns ns[MAX_NS];
	int n = 0, joined_user = 0;
	char *spec = getenv("_BERTH_NSJOIN");
	if (spec && *spec) {
		spec = strdup(spec);
		if (!spec)
			nsexec_bail("nsexec: out of memory");
		n = open_all(spec, ns);
	}
	for (int i = 0; i < n; i++)
		joined_user |= ns[i].flag == CLONE_NEWUSER;

	join(ns, n, 0);
	if (joined_user)
		become_root();
	join(ns, n, 1);

	const char *nf = getenv("_BERTH_NSNEW");
	int flags = nf ? (int)strtol(nf, NULL, 10) : 0;
	if (flags & CLONE_NEWUSER) {
		char ack[16];
		if (unshare(CLONE_NEWUSER) < 0)
			nsexec_bail("create user namespace");
		const char *m = "{\"type\":\"userns\"}";
		if (write(sync_fd, m, strlen(m)) < 0)
			nsexec_bail("nsexec: write to parent");
		if (read(sync_fd, ack, sizeof(ack)) <= 0)
			nsexec_bail("nsexec: parent did not write id maps");
		become_root();
	}
	// The cgroup namespace is created by init once the parent has moved it
	// into the container's cgroup, so the namespace is rooted there.
	flags &= ~(CLONE_NEWUSER | CLONE_NEWCGROUP);
	if (flags && unshare(flags) < 0)
		nsexec_bail("create namespaces (flags 0x%x)", flags);
	const char *tn = getenv("_BERTH_TIMENS");
	if ((flags & CLONE_NEWTIME) && tn && *tn)
		write_timens(tn);
	join(ns, n, 2);

	const char *fk = getenv("_BERTH_NSFORK");
	if (fk && strcmp(fk, "1") == 0) {
		pid_t pid = fork();
		if (pid < 0)
			nsexec_bail("fork into pid namespace");
		if (pid > 0) {
			char pkt[64];
			int len = snprintf(pkt, sizeof(pkt), "{\"type\":\"pid\",\"pid\":%d}", pid);
			if (write(sync_fd, pkt, len) < 0)
				_exit(1);
			_exit(0);
		}
	}
	// This process becomes init, or the exec'd process: it goes on into
	// the Go runtime, unless the parent sent the process to exec.
	const char *ex = getenv("_BERTH_EXEC");
	if (ex && strcmp(ex, "1") == 0)
		nsexec_exec_process(sync_fd);
	if (want_plan)
		nsexec_run_plan(sync_fd);
}
